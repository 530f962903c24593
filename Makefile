# Convenience entry points; CMake does the work.
#   make demo   set up, build, and serve the bundled demo model on port 3000
#   make test   set up, build, and run every test suite (the README's test command; CI runs it)
JOBS ?= $(shell nproc)
BUILD ?= build
STREAMGEN := $(BUILD)/src/cli/streamgen

.PHONY: setup build test demo bench clean

setup:
	scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# Serves the bundled demo model (models/demo) on port 3000 until Ctrl-C.
demo: build
	$(STREAMGEN) generate --prompt "ROMEO:" --max-new-tokens 40
	$(STREAMGEN) serve --port 3000

# Unit tests, the PyTorch reference comparisons, ASan+UBSan builds of the parsers, bounded fuzzing.
test: build
	scripts/run_tests.sh

bench: build
	$(STREAMGEN) bench --model models/demo/shakespeare-q8_0.gguf

clean:
	rm -rf build build-*
