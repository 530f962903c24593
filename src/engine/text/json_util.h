// Non-throwing accessors for tokenizer.json / tokenizer_config.json values. nlohmann's get<>
// throws on a type mismatch, so every read from a file goes through these checks instead.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/status.h"

namespace sg::json_util {

// The member KEY of object J, or null if J is not an object or lacks it.
inline const nlohmann::json* Member(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end()) return nullptr;
  return &*it;
}

// Nesting depth of J (a scalar is 1), computed without recursion, stopping as soon as it exceeds
// LIMIT (returns LIMIT + 1 then). The component factories recurse once per nested Sequence, so a
// hostile file must be refused before they run.
inline size_t DepthUpTo(const nlohmann::json& j, size_t limit) {
  std::vector<std::pair<const nlohmann::json*, size_t>> stack = {{&j, 1}};
  size_t deepest = 0;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return limit + 1;
    if (node->is_structured()) {
      for (const nlohmann::json& child : *node) stack.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
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
