# keyward — the two commands a newcomer needs:
#   make run    install what is missing, build, and play the whole story:
#               server, users, queue, worker, usage, revocation, rotation
#   make test   install what is missing, build, and run the whole test suite
# plus: make tour (the CLI key lifecycle), make test-asan (the suite under
# ASan+UBSan), make fuzz (every libFuzzer target for FUZZ_SECONDS each),
# make bench, make clean.

PRESET ?= release
BUILD_DIR = build/$(PRESET)

.PHONY: deps build run tour test test-asan fuzz bench clean

FUZZ_SECONDS ?= 60

deps:
	@scripts/install-deps

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

run: build
	@scripts/demo $(BUILD_DIR)/keyward

tour: build
	@scripts/tour $(BUILD_DIR)/keyward

test: build
	@ctest --preset $(PRESET)

test-asan:
	@$(MAKE) --no-print-directory test PRESET=asan

fuzz: deps
	@scripts/fuzz $(FUZZ_SECONDS)

bench: build
	@$(BUILD_DIR)/keyward_bench

clean:
	rm -rf build
