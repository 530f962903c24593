// Compiles a JSON Schema (the `grammar` {"type":"json","value":...} of TGI, OpenAI's
// response_format json_schema, a tool's parameters) into an Rx over the bytes of a JSON text.
//
// The contract is FAIL CLOSED: every string the Rx matches is a JSON text that validates against
// the schema (draft 2020-12 semantics, with the `format` checks of ajv-formats' "full" mode). The
// Rx may match only a subset of the valid texts (properties are generated in the schema's order,
// no properties beyond those declared, whitespace limited to one optional space at the places
// JsonWhitespace() names, dates only up to day 28 in February, ...) but never a text that does not
// validate. A keyword, keyword value or combination that cannot be enforced this way is an
// InvalidArgument error whose message names the keyword and where it is, e.g.
//   JSON Schema keyword "not" is not supported (at /properties/tags/items)
// Annotation keywords that do not constrain (title, description, default, examples, $schema, $id,
// $comment, deprecated, readOnly, writeOnly, contentMediaType, ...) are ignored.
//
// Untyped values ({} or a missing `type`) and {"type": "object"} without properties accept any
// JSON value / object up to JsonSchemaOptions::max_any_depth levels of nesting (a regular language
// cannot count brackets; deeper values are simply never generated, which stays valid).
// $ref supports "#", "#/$defs/..." and "#/definitions/..." (JSON pointers into the root); a
// reference cycle is refused (InvalidArgument naming "$ref").
//
// Thread rules: pure function; any thread.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "engine/constrain/rx.h"
#include "engine/core/status.h"

namespace sg {

struct JsonSchemaOptions {
  int32_t max_any_depth = 3;       // nesting of objects/arrays inside an untyped value
  int32_t max_properties = 256;    // per object schema; more is refused (names "properties")
  int32_t max_enum_values = 4096;  // per enum; more is refused (names "enum")
};

// Properties are generated in the order the schema lists them only when it is parsed as
// ordered_json (nlohmann::json sorts object keys): prefer this overload.
StatusOr<Rx> JsonSchemaToRx(const nlohmann::ordered_json& schema,
                            const JsonSchemaOptions& options = {});
StatusOr<Rx> JsonSchemaToRx(const nlohmann::json& schema, const JsonSchemaOptions& options = {});

// Building blocks (also used by the tool-call grammar and tests):
Rx JsonWhitespace();                                    // at most one space: [ ]?
Rx JsonStringRx(int32_t min_chars, int32_t max_chars);  // a JSON string of min..max characters
                                                        // (max kRxUnbounded); an escape is one char
Rx JsonAnyValueRx(int32_t max_depth);

}  // namespace sg
