# Two commands do everything on a fresh Debian machine:
#   make demo   set up, fetch whisper-base, run the main job on the embedded registry
#   make test   set up and run the whole test suite (what CI runs)
SWIFT ?= swift
CONFIG ?= release
SWIFT_FLAGS = -c $(CONFIG)
TEST_FLAGS = -c $(CONFIG) -Xswiftc -enable-testing

.PHONY: setup build test demo fetch-model bench clean

setup:
	scripts/setup.sh

build: setup
	$(SWIFT) build $(SWIFT_FLAGS)

test: setup
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build --parallel --num-workers 2

fetch-model: build
	scripts/fetch-whisper-base.sh

demo: build
	scripts/demo.sh

bench: setup
	scripts/setup.sh --bench
	$(SWIFT) build $(SWIFT_FLAGS)
	bench/run-all.sh

clean:
	rm -rf .build
