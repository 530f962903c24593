// Non-throwing accessors for tokenizer.json / tokenizer_config.json values. nlohmann's get<>
// throws on a type mismatch, so every read from a file goes through these checks instead.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace sg::json_util {

// The member KEY of object J, or null if J is not an object or lacks it.
inline const nlohmann::json* Member(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end()) return nullptr;
  return &*it;
}

inline std::optional<std::string> String(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* m = Member(j, key);
  if (m == nullptr || !m->is_string()) return std::nullopt;
  return m->get_ref<const std::string&>();
}

inline std::string StringOr(const nlohmann::json& j, std::string_view key, std::string def) {
  std::optional<std::string> s = String(j, key);
  return s ? *s : def;
}

inline bool BoolOr(const nlohmann::json& j, std::string_view key, bool def) {
  const nlohmann::json* m = Member(j, key);
  if (m == nullptr || !m->is_boolean()) return def;
  return m->get<bool>();
}

inline std::optional<int64_t> Int(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* m = Member(j, key);
  if (m == nullptr || !m->is_number_integer()) return std::nullopt;
  return m->get<int64_t>();
}

inline std::optional<double> Number(const nlohmann::json& j, std::string_view key) {
  const nlohmann::json* m = Member(j, key);
  if (m == nullptr || !m->is_number()) return std::nullopt;
  return m->get<double>();
}

// The component's "type" string, or InvalidArgument naming WHAT (e.g. "normalizer").
inline StatusOr<std::string> TypeOf(const nlohmann::json& j, std::string_view what) {
  std::optional<std::string> t = String(j, "type");
  if (!t) return InvalidArgumentError(std::string(what) + ": missing \"type\"");
  return *t;
}

}  // namespace sg::json_util
