// In-memory random f32 models of each architecture for runtime tests, and a naive double-precision
// reference forward (full causal attention recomputed per position, no KV cache) that is
// independent of the engine's kernels.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/executor.h"

namespace sg::testing {

struct TinySpec {
  Arch arch = Arch::kLlama;
  int64_t vocab = 64;
  int64_t hidden = 32;
  int64_t inter = 48;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t kv_heads = 2;
  int64_t head_dim = 8;
  uint32_t seed = 1;
};

// A Model whose weight views point into buffers owned by this object.
struct TestModel {
  std::deque<std::vector<float>> buffers;
  Model model;
};

// Llama: interleaved RoPE, no biases. Qwen2: halves RoPE + q/k/v biases. Qwen3: halves RoPE +
// q/k norms (head_dim as given, may differ from hidden / heads).
std::unique_ptr<TestModel> MakeTinyModel(const TinySpec& spec);

// Logits {n, V} for every position of `tokens` run as one sequence from position 0.
std::vector<double> ReferenceLogits(const Model& model, std::span<const int32_t> tokens);

// Every position's logits {n, V} of tokens[start, end), run as the only sequence of each step in
// steps of `chunk` tokens, appended in order (a failed step fails the test).
std::vector<float> StepAlone(Executor& exec, KvAllocation& kv, std::span<const int32_t> tokens,
                             int64_t start, int64_t chunk);

}  // namespace sg::testing
