# Rehearse: the two commands a new machine needs are `make demo` and `make test`.
SWIFT ?= swift
# Release builds link the Swift runtime statically (lower start-up memory, one portable
# binary) with lld, which the Swift toolchain ships.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld
BIN := .build/release/rehearse
SHARED ?= ../shared

.PHONY: deps build demo test bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build $(RELEASE_FLAGS)

demo: build
	scripts/demo.sh $(BIN)

test: deps
	$(SWIFT) test

bench: build
	python3 scripts/bench.py --rehearse $(BIN) --shared $(SHARED) --out BENCHMARKS.md

clean:
	rm -rf .build .build-*
