// ModelConfig from a GGUF file's metadata (keys as llama.cpp's converter writes them) and its
// optional rope_freqs.weight tensor.
#pragma once

#include "engine/core/status.h"
#include "engine/io/gguf.h"
#include "engine/model/model_config.h"

namespace sg {

// Reads general.architecture (llama, qwen2, qwen3), <arch>.* hyperparameters, rope scaling
// (linear factor, or Llama-3.1 frequency factors in rope_freqs.weight) and tokenizer.ggml
// bos/eos ids. Errors name the file and the key.
StatusOr<ModelConfig> ConfigFromGguf(const GgufFile& file);

}  // namespace sg
