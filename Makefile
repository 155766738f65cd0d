# Rehearse: the two commands a new machine needs are `make demo` and `make test`.
SWIFT ?= swift
# Release builds link the Swift runtime statically (lower start-up memory, one portable
# binary) with lld, which the Swift toolchain ships.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld
BIN := .build/release/rehearse
SHARED ?= ../shared

.PHONY: deps build demo test bench fuzz clean

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
