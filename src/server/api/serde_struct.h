// serde-derive's Deserialize for structs, over SerdeReader: the map form (keys in any order,
// unknown keys skipped as IgnoredAny, a repeated known key -> "duplicate field `x`", a missing
// required one -> "missing field `x`") and the sequence form (fields in declaration order; a short
// array -> "invalid length N, expected struct X with M elements" unless the field has a default).
// Plus the Option<T> field readers TGI's structs use. Pure; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/api/serde_reader.h"

namespace sg::api {

struct FieldSpec {
  std::string_view name;
  bool required_in_map = false;  // no serde default and not an Option
  bool required_in_seq = false;  // no serde default (Options too: derive needs the element)
  std::function<bool(SerdeReader&)> read;  // reads the value (path already pushed)
};

// Reads one struct value; `present[i]` tells whether field i was given (may be null).
bool ReadStruct(SerdeReader& r, std::string_view name, const std::vector<FieldSpec>& fields,
                std::vector<bool>* present = nullptr);

// Field readers for the Rust types of TGI's request structs.
bool ReadOptionalF32(SerdeReader& r, std::optional<float>* out);    // Option<f32>
bool ReadOptionalU32(SerdeReader& r, std::optional<int64_t>* out);  // Option<u32>
bool ReadOptionalU64(SerdeReader& r, std::string_view type,         // Option<u64|usize>
                     std::optional<uint64_t>* out);
bool ReadOptionalI32(SerdeReader& r, std::optional<int64_t>* out);         // Option<i32>
bool ReadOptionalBool(SerdeReader& r, std::optional<bool>* out);           // Option<bool>
bool ReadOptionalString(SerdeReader& r, std::optional<std::string>* out);  // Option<String>

}  // namespace sg::api
