// Scalar reference kernels of every format, one triple per type (the signatures of QuantTraits).
// These are the spec; QuantTraits (traits.h) is the way the rest of the engine reaches them.
// All: n is a multiple of the type's block_elems; src/dst do not overlap.
#pragma once

#include <cstdint>

namespace sg {

#define SG_DECLARE_QUANT_FORMAT(Name)                               \
  void DequantizeRow##Name(const void* src, float* dst, int64_t n); \
  void QuantizeRow##Name(const float* src, void* dst, int64_t n);   \
  float DotF32##Name(const void* row, const float* x, int64_t n)

SG_DECLARE_QUANT_FORMAT(F32);
SG_DECLARE_QUANT_FORMAT(F16);
SG_DECLARE_QUANT_FORMAT(BF16);
SG_DECLARE_QUANT_FORMAT(Q4_0);
SG_DECLARE_QUANT_FORMAT(Q4_1);
SG_DECLARE_QUANT_FORMAT(Q5_0);
SG_DECLARE_QUANT_FORMAT(Q5_1);
SG_DECLARE_QUANT_FORMAT(Q8_0);
SG_DECLARE_QUANT_FORMAT(Q4_K);
SG_DECLARE_QUANT_FORMAT(Q5_K);
SG_DECLARE_QUANT_FORMAT(Q6_K);
SG_DECLARE_QUANT_FORMAT(Q8_K);

#undef SG_DECLARE_QUANT_FORMAT

}  // namespace sg
