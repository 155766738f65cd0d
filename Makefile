# Rehearse: the two commands a new machine needs are `make demo` and `make test`.
SWIFT ?= swift
# Release builds link the Swift runtime statically (lower start-up memory, one portable
# binary) with lld, which the Swift toolchain ships.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld
BIN := .build/release/rehearse
SHARED ?= ../shared

.PHONY: deps build demo test check check-deploy bench fuzz validate-local gitlab-standin clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product rehearse

demo: build
	scripts/demo.sh $(BIN)

# The unit and end-to-end tests: one debug build of every package, without the debug info only a
# debugger uses (BENCHMARKS.md: a fresh clone builds for about 10 minutes, the GitLab driver's
# HTTP stack a good half of it). The test discovery needs the index store: it stays. lld, which
# the toolchain ships, links the test bundle and the executables.
TEST_FLAGS := -Xswiftc -gnone -Xcc -g0 -Xswiftc -use-ld=lld

test: deps
	$(SWIFT) build --build-tests $(TEST_FLAGS)
	$(SWIFT) test --skip-build $(TEST_FLAGS)

# Every shipped experiment's claims, and each negative control failing, with the release
# binary (simulation in a debug build is far too slow): about 8 minutes after the build and
# 4 GB of memory, most of it the ten-million-repository experiments/gitlab-com-scale.yaml.
check: build check-deploy
	$(BIN) check --check-invariants experiments/

# The GitLab CI file of deploy/ against GitLab's CI schema (check-jsonschema's vendor.gitlab-ci,
# from PyPI into a venv under .build), and a copy broken on purpose (parallel: 201, past GitLab's
# 200) that it must refuse. The manifests' commands run in make test (DeployTests).
VENV ?= .build/venv
GITLAB_CI_FILE := deploy/gitlab-ci/rehearse-sweep.gitlab-ci.yml

check-deploy:
	@scripts/install-deps.sh python3-venv
	@test -x $(VENV)/bin/check-jsonschema || { python3 -m venv $(VENV) && $(VENV)/bin/pip install --quiet 'check-jsonschema>=0.29'; }
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.gitlab-ci $(GITLAB_CI_FILE)
	@sed 's/parallel: [0-9]*/parallel: 201/' $(GITLAB_CI_FILE) > $(VENV)/broken.gitlab-ci.yml
	@if $(VENV)/bin/check-jsonschema --builtin-schema vendor.gitlab-ci $(VENV)/broken.gitlab-ci.yml >/dev/null 2>&1; then \
		echo "check-deploy: the schema check passed a pipeline with parallel: 201; it checks nothing" >&2; exit 1; \
	else echo "check-deploy: a copy with parallel: 201 is refused, as it must be"; fi

bench: build
	python3 scripts/bench.py --rehearse $(BIN) --shared $(SHARED) --out BENCHMARKS.md

# The simulator's prediction against a real drain (BENCHMARKS.md, "Prediction against a real
# drain"): this machine calibrated once, then for each seed 200 real bare repositories drained
# by the local-git driver under pushes, and the same plan simulated on the calibrated model.
# One line per seed; exits 1 when a seed's prediction is more than 15% off.
VALIDATE_DIR ?= .build-validate
VALIDATE_SEEDS ?= 1 2 3

validate-local: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product rehearse
	rm -rf $(VALIDATE_DIR) && mkdir -p $(VALIDATE_DIR)/calibrate-a $(VALIDATE_DIR)/calibrate-b
	$(BIN) calibrate local --storage a=$(VALIDATE_DIR)/calibrate-a --storage b=$(VALIDATE_DIR)/calibrate-b --out $(VALIDATE_DIR)/model.yaml
	@status=0; for s in $(VALIDATE_SEEDS); do $(BIN) validate local --work $(VALIDATE_DIR) --model $(VALIDATE_DIR)/model.yaml --seed $$s || status=1; done; exit $$status

# The GitLab API stand-in on its own (Sources/GitLabStandIn/README.md), for any client of GitLab's
# API: plain HTTP on 127.0.0.1:PORT over the storage folders in STORAGES (NAME=DIR,NAME=DIR),
# its state in STANDIN_STATE (made from the folders when missing). Prints the admin token.
PORT ?= 8080
STORAGES ?=
STANDIN_STATE ?= .build-standin/gitlab-standin.sqlite

gitlab-standin: deps
	@test -n "$(STORAGES)" || { echo "make gitlab-standin: give STORAGES=NAME=DIR,NAME=DIR" >&2; exit 2; }
	@mkdir -p $(dir $(STANDIN_STATE))
	$(SWIFT) run gitlab-standin --port $(PORT) --storages $(STORAGES) --state $(STANDIN_STATE)

# libFuzzer targets of the parsers (Fuzz/README.md): an instrumented debug build in its own
# scratch path, then every target for FUZZ_SECONDS each, at once, at the lowest priority.
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= .build-fuzz
FUZZ_FLAGS := -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld

fuzz: deps
	$(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS)
	python3 Fuzz/run.py --seconds $(FUZZ_SECONDS) --build-dir $(FUZZ_BUILD)

clean:
	rm -rf .build .build-*
