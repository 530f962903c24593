#include "server/api/grammar_request.h"

#include <nlohmann/json.hpp>
#include <string>

#include "server/api/serde_reader.h"

namespace sg::api {
namespace {

// ordered_json keeps the schema's key order: properties are generated in the order they are
// declared, which is what a client reading the output expects (and what the schema's author
// wrote first, e.g. a tool call's `_name`).
using Json = nlohmann::ordered_json;

ApiError NotValid(std::string_view detail) {
  return ValidationError("grammar is not valid: " + std::string(detail));
}

std::string Compact(const Json& v) {
  return v.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// serde_json::from_str::<Value>: serde_json's own error text ("<msg> at line L column C") for a
// string that is not one JSON value, and its recursion limit, so nothing deeper than 128 levels
// reaches the (recursive) serializer below.
std::variant<Json, ApiError> ParseJsonText(std::string_view text) {
  SerdeReader r(text);
  if (!r.SkipContent() || !r.End()) {
    const DeError& e = r.error();
    std::string msg = e.message;
    if (e.line) msg += " at line " + std::to_string(e.line) + " column " + std::to_string(e.column);
    return NotValid(msg);
  }
  Json v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return NotValid("the schema is not valid JSON");  // not expected
  return v;
}

// The value as parsed by the request parser (which checked its syntax and depth).
bool ParseValue(std::string_view value, Json* out) {
  *out = Json::parse(value, nullptr, /*allow_exceptions=*/false);
  return !out->is_discarded();
}

std::variant<std::shared_ptr<const Grammar>, ApiError> Compile(GrammarCache& cache,
                                                               GrammarKind kind,
                                                               const std::string& source) {
  StatusOr<std::shared_ptr<const Grammar>> g = cache.Get(kind, source);
  if (!g.ok()) return NotValid(g.status().message());
  return std::move(*g);
}

std::variant<std::shared_ptr<const Grammar>, ApiError> CompileSchema(GrammarCache& cache,
                                                                     const Json& schema) {
  // The meta-schema's first rule: a schema is an object or a boolean.
  if (!schema.is_object() && !schema.is_boolean()) {
    return NotValid(Compact(schema) + " is not of types \"boolean\", \"object\"");
  }
  // TGI's router needs `properties` at the top (for its Python side); we keep its rule so a
  // request answered here is answered the same by TGI.
  if (!schema.is_object() || !schema.contains("properties")) {
    return NotValid("Grammar must have a 'properties' field");
  }
  return Compile(cache, GrammarKind::kJsonSchema, Compact(schema));
}

}  // namespace

std::variant<std::shared_ptr<const Grammar>, ApiError> CompileGrammar(std::string_view type,
                                                                      std::string_view value,
                                                                      GrammarCache* cache) {
  if (!cache) return ValidationError("grammar is not supported");
  Json v;
  if (!ParseValue(value, &v)) return NotValid("the grammar value is not valid JSON");
  if (type == "regex") {
    if (!v.is_string()) return ValidationError("grammar is not supported");  // parser ensures
    return Compile(*cache, GrammarKind::kRegex, v.get_ref<const std::string&>());
  }
  if (type == "json_schema") {
    // JsonSchemaConfig {name?, schema}, or serde's sequence form [name, schema]; the parser
    // checked the shape.
    if (v.is_array() && v.size() == 2) return CompileSchema(*cache, v[1]);
    auto it = v.find("schema");
    if (!v.is_object() || it == v.end()) return ValidationError("grammar is not supported");
    return CompileSchema(*cache, *it);
  }
  // json / json_object: an object, or a string holding the schema's JSON text.
  if (v.is_string()) {
    auto parsed = ParseJsonText(v.get_ref<const std::string&>());
    if (auto* e = std::get_if<ApiError>(&parsed)) return *e;
    return CompileSchema(*cache, std::get<Json>(parsed));
  }
  if (!v.is_object()) return ValidationError("grammar is not supported");
  return CompileSchema(*cache, v);
}

}  // namespace sg::api
