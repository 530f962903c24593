// A request's grammar (`grammar` on the native routes, `response_format` and the tool-call schema
// on chat) checked as TGI's router checks it (API contract §3.2 item 17, §3.8) and compiled by the
// engine's GrammarCache, so the engine thread only ever sees a compiled Grammar.
//
// TGI's checks and words ("Input validation error: " prefixed, 422 validation):
// - no cache (--disable-grammar-support, or a tokenizer whose tokens have no byte strings):
//   "grammar is not supported";
// - json / json_object: a value that is neither an object nor a string -> "grammar is not
//   supported"; a string that is not JSON -> "grammar is not valid: <serde_json's error>";
//   json_schema: the `schema` member;
// - a schema that is not an object or a boolean -> "grammar is not valid: <value> is not of types
//   \"boolean\", \"object\"" (the meta-schema's words in TGI's jsonschema crate);
// - no top-level `properties` -> "grammar is not valid: Grammar must have a 'properties' field";
// - then the engine compiles it; any error -> "grammar is not valid: <engine message>" (the message
//   names the unsupported keyword or construct).
// regex: compiled as is; an invalid or unsupported pattern -> "grammar is not valid: <message>".
// Where we differ: TGI validates against the draft 2020-12 meta-schema before the `properties`
// check (we have no meta-schema validator: an invalid keyword value is reported by the compiler,
// after the `properties` check); TGI reports a schema its outlines-core cannot convert as "cannot
// compile regex from schema: ..."; and TGI passes a regex to the shard unchecked, where an invalid
// one fails the whole batch (424): here it is a 422 for that request alone.
//
// Compiling takes milliseconds to tens of milliseconds on a cache miss: call it on a validation
// worker, never on an I/O or the engine thread. Thread-safe (the cache is).
#pragma once

#include <memory>
#include <string_view>
#include <variant>

#include "engine/constrain/grammar.h"
#include "server/api/api_error.h"

namespace sg::api {

// `type`: "json", "json_object", "regex" or "json_schema"; `value`: the `value` JSON text as the
// request parser kept it (its syntax already checked). `cache` null: grammars are refused.
std::variant<std::shared_ptr<const Grammar>, ApiError> CompileGrammar(std::string_view type,
                                                                      std::string_view value,
                                                                      GrammarCache* cache);

}  // namespace sg::api
