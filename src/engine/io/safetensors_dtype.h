// safetensors dtype strings <-> DType. Shared by the safetensors reader and writer.
#pragma once

#include <optional>
#include <string_view>

#include "engine/core/dtype.h"

namespace sg {

// The DType for a safetensors dtype string, or nullopt for a string that is not one of
// safetensors' dtypes we can represent (see IsKnownUnsupportedSafetensorsDType).
inline std::optional<DType> SafetensorsDTypeFromString(std::string_view s) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  if (s == "F64") return DType::kF64;
  if (s == "I8") return DType::kI8;
  if (s == "I16") return DType::kI16;
  if (s == "I32") return DType::kI32;
  if (s == "I64") return DType::kI64;
  return std::nullopt;
}

// Valid safetensors dtypes that have no DType here (refused as unsupported, not as corrupt).
inline bool IsKnownUnsupportedSafetensorsDType(std::string_view s) {
  return s == "BOOL" || s == "U8" || s == "U16" || s == "U32" || s == "U64" || s == "F8_E4M3" ||
         s == "F8_E5M2" || s == "F8_E8M0" || s == "F4" || s == "F6_E2M3" || s == "F6_E3M2" ||
         s == "C64";
}

// The safetensors string for a DType, or nullopt if safetensors has no such dtype here.
inline std::optional<std::string_view> SafetensorsDTypeName(DType type) {
  switch (type) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kF64:
      return "F64";
    case DType::kI8:
      return "I8";
    case DType::kI16:
      return "I16";
    case DType::kI32:
      return "I32";
    case DType::kI64:
      return "I64";
    default:
      return std::nullopt;
  }
}

}  // namespace sg
