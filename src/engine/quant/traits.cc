// The traits table: one entry per type with kernels.
#include "engine/quant/traits.h"

#include <array>

#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"

namespace sg {
namespace {

#define SG_TRAITS(Type, Name, elems, bytes, vec_type)                                \
  QuantTraits {                                                                      \
    DType::Type, elems, bytes, DequantizeRow##Name, QuantizeRow##Name, DotF32##Name, \
        DType::vec_type                                                              \
  }

// Q8_K is here so kernels can quantize activations through the table (vec_dot_type of the
// K formats); it is not a weight type (see kWeightTypes).
constexpr std::array<QuantTraits, 12> kTraits = {{
    SG_TRAITS(kF32, F32, 1, 4, kF32),
    SG_TRAITS(kF16, F16, 1, 2, kF32),
    SG_TRAITS(kBF16, BF16, 1, 2, kF32),
    SG_TRAITS(kQ4_0, Q4_0, kQK, sizeof(BlockQ4_0), kQ8_0),
    SG_TRAITS(kQ4_1, Q4_1, kQK, sizeof(BlockQ4_1), kQ8_0),
    SG_TRAITS(kQ5_0, Q5_0, kQK, sizeof(BlockQ5_0), kQ8_0),
    SG_TRAITS(kQ5_1, Q5_1, kQK, sizeof(BlockQ5_1), kQ8_0),
    SG_TRAITS(kQ8_0, Q8_0, kQK, sizeof(BlockQ8_0), kQ8_0),
    SG_TRAITS(kQ4_K, Q4_K, kQKK, sizeof(BlockQ4_K), kQ8_K),
    SG_TRAITS(kQ5_K, Q5_K, kQKK, sizeof(BlockQ5_K), kQ8_K),
    SG_TRAITS(kQ6_K, Q6_K, kQKK, sizeof(BlockQ6_K), kQ8_K),
    SG_TRAITS(kQ8_K, Q8_K, kQKK, sizeof(BlockQ8_K), kQ8_K),
}};

#undef SG_TRAITS

constexpr std::array<DType, 11> kWeightTypes = {
    DType::kF32,  DType::kF16,  DType::kBF16, DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
    DType::kQ5_1, DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
};

}  // namespace

const QuantTraits* GetQuantTraits(DType type) {
  for (const QuantTraits& t : kTraits) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

std::span<const DType> SupportedWeightTypes() { return kWeightTypes; }

}  // namespace sg
