// Values to and from JSON: the render context in (objects keep their key order when given as
// nlohmann::ordered_json), and Python's json.dumps out (transformers' `tojson` filter).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/core/status.h"
#include "engine/text/jinja/value.h"

namespace sg::jinja {

// JSON -> Value: object -> dict (in the json's iteration order), array -> list, null -> None.
Value FromJson(const nlohmann::ordered_json& j);
Value FromJson(const nlohmann::json& j);

struct JsonDumpOptions {
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::optional<std::string> indent;  // unset: one line; else the text of one indent level
  std::string item_separator = ", ";  // json.dumps: "," when indent is set
  std::string key_separator = ": ";
};

// Python's json.dumps(v, ...). Unserializable values (Undefined, generators, namespaces,
// callables): TypeError "Object of type X is not JSON serializable".
StatusOr<std::string> JsonDumps(const Value& v, const JsonDumpOptions& options, size_t max_bytes);

}  // namespace sg::jinja
