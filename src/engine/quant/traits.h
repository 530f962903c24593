// One traits entry per weight type with kernels: the only place a matmul resolves a type.
// The scalar functions here are the SPEC of each format (bit-exact with GGUF files written by
// ggml/llama.cpp); SIMD kernels elsewhere are tested against them.
#pragma once

#include <cstdint>
#include <span>

#include "engine/core/dtype.h"

namespace sg {

struct QuantTraits {
  DType type;
  uint32_t block_elems;  // elements per block (1 for f32/f16/bf16)
  uint32_t block_bytes;  // bytes per block

  // src: n/block_elems blocks; dst: n floats. n must be a multiple of block_elems.
  void (*dequantize_row)(const void* src, float* dst, int64_t n);
  // Our quantizer (round-to-nearest with the format's scale search, deterministic):
  // src: n floats; dst: n/block_elems blocks.
  void (*quantize_row)(const float* src, void* dst, int64_t n);
  // Reference dot product of one stored row with a float vector, accumulated in float
  // block by block (dequantize a block, multiply-add). n a multiple of block_elems.
  float (*dot_f32)(const void* row, const float* x, int64_t n);
  // Activation type the fast integer dot product will quantize x to (kQ8_0 for 32-blocks,
  // kQ8_K for 256-blocks, kF32 for float types). A seam for the kernels issue.
  DType vec_dot_type;
};

// Traits of a weight type, or nullptr if streamgen has no kernels for it.
const QuantTraits* GetQuantTraits(DType type);

// The weight types with kernels, in a stable order (for messages and tests).
std::span<const DType> SupportedWeightTypes();

}  // namespace sg
