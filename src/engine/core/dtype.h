// Element types of tensors. Values are ggml's type ids, so a GGUF tensor's type field maps to a
// DType by value (after checking it is known). Only some types have kernels (see quant/traits.h);
// the others are known so that files can be inspected and refused with a clear error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sg {

enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
};

// Storage geometry of a type: `block_elems` consecutive elements of a row are stored in
// `block_bytes` bytes. Rows must be a multiple of block_elems long.
struct DTypeInfo {
  DType type;
  std::string_view name;  // as llama.cpp prints it: "f32", "q4_K", ...
  uint32_t block_elems;
  uint32_t block_bytes;
};

// Info for a ggml type id, or nullopt if the id is not a known type (deprecated/removed ids too).
std::optional<DTypeInfo> LookupDType(uint32_t ggml_type_id);
const DTypeInfo& GetDTypeInfo(DType type);  // type must be a known enumerator
std::string_view DTypeName(DType type);

// Bytes of one row of `elems` elements; nullopt if elems is not a multiple of the block size.
std::optional<uint64_t> RowBytes(DType type, uint64_t elems);

}  // namespace sg
