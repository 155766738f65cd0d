# Rehearse: the two commands a new machine needs are `make demo` and `make test`.
SWIFT ?= swift
# Release builds link the Swift runtime statically (lower start-up memory, one portable
# binary) with lld, which the Swift toolchain ships.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld
BIN := .build/release/rehearse
SHARED ?= ../shared

.PHONY: deps build demo test bench fuzz validate-local clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

demo: build
	scripts/demo.sh $(BIN)

# The unit and end-to-end tests, then every shipped experiment's claims (and each negative
# control failing) with the release binary: simulation in a debug build is far too slow.
test: deps
	$(SWIFT) test
	$(SWIFT) build $(RELEASE_FLAGS) --product rehearse
	$(BIN) check experiments/

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
