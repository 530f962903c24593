// Random test models of the supported architectures, written as GGUF files (any weight type) or
// Hugging Face folders (f32/f16/bf16). The same options and seed always give the same underlying
// F32 weights whatever the output format or type: each tensor is drawn from its own stream,
// seeded by (seed, Hugging Face tensor name). For arch llama the GGUF stores q/k rows permuted
// exactly as llama.cpp's convert_hf_to_gguf does, so a GGUF and a folder of one seed are the same
// model. Weights are scaled for non-flat next-token distributions (logit std about 14) with well
// scaled activations (norm weights near 1, linear weights ~N(0, 1/in)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/status.h"

namespace sg::testmodel {

struct TestModelOptions {
  std::string arch = "llama";  // llama | qwen2 | qwen3
  std::string type = "f32";    // f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K q5_K q6_K q4_K_M
  std::string size = "tiny";   // tiny | small | 135m
  uint64_t seed = 1;
  bool tied = false;                  // 135m is always tied
  std::string rope_scaling = "none";  // none | llama3 (arch llama only) | linear
  int shards = 1;                     // Hugging Face folders only: number of safetensors files
};

// Hyperparameters the options resolve to.
struct TestModelShape {
  int64_t vocab = 0, hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0;
  int64_t head_dim = 0, context = 0;
  double rope_theta = 10000.0, rms_eps = 1e-5;
  bool tied = false;
  bool qkv_bias = false;  // qwen2
  bool qk_norm = false;   // qwen3
  // rope scaling parameters written to the files
  double linear_factor = 2.0;
  double llama3_factor = 8.0, llama3_low = 1.0, llama3_high = 4.0;
  int64_t llama3_original_context = 0;  // tokens: context / 4
  int32_t bos = 1, eos = 2;
};

// Validates the options; InvalidArgument naming the bad one.
StatusOr<TestModelShape> ResolveShape(const TestModelOptions& options);

// Text for --help: the sizes and types.
std::string SizesHelp();

// Writes a GGUF v3 file, streaming one tensor at a time (135m f32 needs ~1 tensor of memory).
Status WriteTestGguf(const TestModelOptions& options, const std::string& path);

// Writes config.json plus model.safetensors (or options.shards shards and
// model.safetensors.index.json) into `dir` (created if missing). Types f32, f16, bf16 only.
Status WriteTestHf(const TestModelOptions& options, const std::string& dir);

// The underlying F32 values of one tensor (by its Hugging Face name, row-major in HF layout),
// exactly what the writers quantize. For tests.
StatusOr<std::vector<float>> TestTensorValues(const TestModelOptions& options,
                                              const std::string& hf_name);

}  // namespace sg::testmodel
