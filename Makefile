# Convenience entry points; CMake does the work.
#   make demo   set up, build, write a generated test model, and generate from it
#   make test   set up, build, and run every test suite (the README's test command; CI runs it)
JOBS ?= $(shell nproc)
BUILD ?= build
STREAMGEN := $(BUILD)/src/cli/streamgen
DEMO_MODEL := $(BUILD)/demo/llama-small-q8_0.gguf

.PHONY: setup build test demo bench clean

setup:
	scripts/setup.sh

build: setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j $(JOBS)

# Until the demo-model issue lands there is no trained model in the repository: the demo writes a
# random-weight Llama model (GGUF, Q8_0) and greedy-decodes token ids from it.
$(DEMO_MODEL): build
	mkdir -p $(BUILD)/demo
	$(BUILD)/tools/make_test_model --arch llama --type q8_0 --size small --seed 1 --gguf $@

demo: build $(DEMO_MODEL)
	$(STREAMGEN) inspect $(DEMO_MODEL) | head -20
	$(STREAMGEN) generate --model $(DEMO_MODEL) --prompt-ids 1,2,3,4 --max-new-tokens 32

# Unit tests, the PyTorch reference comparisons, ASan+UBSan builds of the parsers, bounded fuzzing.
test: build
	scripts/run_tests.sh

bench: build $(DEMO_MODEL)
	$(STREAMGEN) bench --model $(DEMO_MODEL)

clean:
	rm -rf build build-*
