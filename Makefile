# Two commands do everything on a fresh Debian machine:
#   make demo   set up, fetch whisper-base, run the main job end to end on ./registry
#   make test   set up and run the whole test suite (what CI runs)
SWIFT ?= swift
CONFIG ?= release
# Numeric code is tested in release: debug builds run element-wise loops tens of times slower.
BUILD_FLAGS = -c $(CONFIG) -Xswiftc -enable-testing
# Python peers run from the project venv that `make setup` creates (scripts/setup.sh);
# exported so scripts/ and bench/ use it too.
PYTHON ?= $(CURDIR)/.venv/bin/python
export PYTHON

# CPU the numeric targets are compiled for (Package.swift): haswell on x86-64 with AVX2 + FMA,
# else the baseline; `make GLOSSA_CPU= ...` builds for the baseline. Exported so every swift
# build below and in scripts/ and bench/ sees the same value (another recompiles).
ifeq ($(origin GLOSSA_CPU),undefined)
GLOSSA_CPU := $(shell bash -c '. scripts/cpu.sh && echo "$$GLOSSA_CPU"')
endif
export GLOSSA_CPU

# Seconds per parser fuzz target in `make test` (bench/fuzz/run.sh runs them longer).
FUZZ_SECONDS ?= 15

.PHONY: setup model build test fuzz demo bench clean

setup:
	scripts/setup.sh

# The fetch is `glossa base fetch` (one list of pinned digests), so it needs the build.
model: build
	GLOSSA=$$($(SWIFT) build $(BUILD_FLAGS) --show-bin-path)/glossa scripts/fetch-whisper-base.sh

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

test: model
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build
	fuzz/run.sh $(FUZZ_SECONDS)

fuzz: setup
	fuzz/run.sh $(FUZZ_SECONDS)

demo: model build
	scripts/demo.sh

bench: model
	scripts/setup.sh --bench
	$(SWIFT) build $(BUILD_FLAGS)
	bench/run-all.sh

clean:
	rm -rf .build
# .venv is kept: it is slow to rebuild and setup keeps it in step with scripts/requirements*.txt.
