# Convenience entry points; CMake does the work. `make test` is the README's test command.
JOBS ?= $(shell nproc)
BUILD ?= build

.PHONY: setup build test test-sanitize fuzz clean

setup:
	scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# Every test: unit tests, the PyTorch reference comparisons, sanitizer builds of the parsers,
# bounded fuzzing. Prints CTest's summary.
test: build
	scripts/run_tests.sh

clean:
	rm -rf build build-*
