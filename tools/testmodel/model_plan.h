// The tensors of a test model: names in both formats, shapes, how each is drawn, and the GGUF
// storage type each gets for a requested type (including the Q4_K_M mix).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/status.h"
#include "test_model.h"

namespace sg::testmodel {

enum class TensorKind { kEmbedding, kOutput, kLinear, kNorm, kBias };

struct PlannedTensor {
  std::string hf_name;
  std::string gguf_name;
  std::vector<int64_t> shape;  // outermost first (HF layout; GGUF after the reader's reversal)
  TensorKind kind;
  float stddev = 0;           // of the random part
  float mean = 0;             // norms: 1
  int64_t layer = -1;         // -1 for non-layer tensors
  int64_t permute_heads = 0;  // > 0: GGUF llama q/k rows permuted with this many heads
  bool is_attn_v = false;     // for the Q4_K_M mix
  bool is_ffn_down = false;
};

std::vector<PlannedTensor> PlanTensors(const TestModelOptions& options,
                                       const TestModelShape& shape);

// The type a GGUF stores this tensor in, for the requested type name (see test_model.h).
StatusOr<DType> GgufTensorType(const std::string& type_name, const PlannedTensor& t,
                               const TestModelShape& shape);

// The float type for a Hugging Face folder: f32, f16 or bf16; InvalidArgument otherwise.
StatusOr<DType> HfFloatType(const std::string& type_name);

// Fills `out` (numel of t.shape) with the tensor's values: deterministic from (seed, hf_name).
void GenerateValues(uint64_t seed, const PlannedTensor& t, std::vector<float>* out);

// llama.cpp convert_hf_to_gguf `permute`: rows of each head reordered from halves
// (i, i + D/2) to interleaved pairs (2i, 2i + 1). `rows` x `cols` row-major, in place.
void PermuteForGguf(std::vector<float>* w, int64_t rows, int64_t cols, int64_t heads);

// Stores `n` floats as `type` (f32/f16/bf16 converted, others through the quant traits).
StatusOr<std::vector<uint8_t>> EncodeRows(const float* values, int64_t rows, int64_t cols,
                                          DType type);

}  // namespace sg::testmodel
