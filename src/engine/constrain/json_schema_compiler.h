// Internal to JsonSchemaToRx: the compiler that walks a schema and builds its Rx. Split by
// concern: json_schema.cc ($ref/allOf flattening, anyOf/oneOf, enum/const, the public entry
// points; its header comment states the design and the keyword coverage), json_schema_values.cc
// (the builders per JSON type), json_schema_keywords.cc (keyword tables, kinds, $ref resolution,
// error messages) and json_schema_lexical.cc (the JSON lexical pieces as Rx).
//
// Thread rules: one compiler per call; not shared.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/constrain/json_schema.h"
#include "engine/constrain/rx.h"
#include "engine/core/status.h"

namespace sg::json_schema_internal {

// Schemas are read as ordered_json so that properties keep the order the client wrote them in
// (nlohmann::json sorts keys; the public overload for it converts).
using Json = nlohmann::ordered_json;

// Value kinds a schema may accept or generate, as bits. "integer" = kInt; "number" = kInt|kFrac.
enum : uint32_t {
  kNull = 1,
  kBool = 2,
  kInt = 4,
  kFrac = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
  kAllKinds = 127,
};

// Keywords a Part hides: the combinator being distributed over its branches, or enum/const while
// the rest of the schema is compiled to filter the enum's values.
enum : uint32_t { kSkipAnyOf = 1, kSkipOneOf = 2, kSkipEnum = 4 };

// One schema object of a conjunction.
struct Part {
  const Json* schema = nullptr;  // an object
  std::string ptr;               // its JSON pointer (errors name it)
  uint32_t skip = 0;
  // The keyword's value, or nullptr when absent or hidden. $ref and allOf are never read through
  // a Part: flattening has already expanded them into parts of their own.
  const Json* Get(std::string_view keyword) const;
};

// A conjunction of schema objects: the schema, its $ref target and allOf members (recursively),
// and, for a branch of anyOf/oneOf, the branch plus the combinator's siblings. A value is valid
// when it is valid for every part; keywords of different parts combine (bounds tighten, required
// lists unite, properties of the same name conjoin).
struct Flat {
  std::vector<Part> parts;
  bool never = false;             // a `false` schema is in the conjunction
  std::string never_keyword;      // the keyword that brought the `false` schema
  std::string never_ptr;          // and where it is
  std::vector<const Json*> refs;  // $ref targets expanded into it (cycle detection)
  std::string ptr;                // of the first schema added (errors about the whole)
};

// "JSON Schema keyword "<kw>" is not supported (at <ptr>)" [": <detail>"].
Status Unsupported(std::string_view keyword, std::string_view ptr, std::string_view detail = {});
// "JSON Schema keyword "<kw>" must be <what> (at <ptr>)".
Status BadValue(std::string_view keyword, std::string_view ptr, std::string_view what);
// `ptr` + "/" + the escaped token (~ -> ~0, / -> ~1).
std::string PointerAppend(std::string_view ptr, std::string_view token);
// The compact JSON text of `value`, or false when it cannot be written (invalid UTF-8).
bool DumpJson(const Json& value, std::string* out);
// The kind bit of a JSON value (an integral number is kInt).
uint32_t KindOf(const Json& value);

// --- json_schema_keywords.cc ---
// Every keyword of `schema` is known; refused ones (and unsupported values of the keywords that
// are accepted only when trivial) are errors naming them.
Status CheckKeywords(const Json& schema, const std::string& ptr);
// Keywords that narrow the value other than type/enum/const (so an enum must be filtered).
bool HasOtherConstraints(const Flat& flat);
// The kinds named by a `type` value.
Status ParseType(const Json& type, const std::string& ptr, uint32_t* kinds);
// The kinds whose keywords appear in `flat` (0: none, an untyped schema accepts anything).
uint32_t InferKinds(const Flat& flat);
// Kinds a conjunction can accept (a superset): its types and enum/const values.
uint32_t AcceptKinds(const Flat& flat);
// Kinds the compiler generates for a conjunction (a superset).
uint32_t GenerateKinds(const Flat& flat);
// Resolves a local reference ("#" or "#/<pointer>", ~0 ~1 and %XX decoded). False when it is not
// local or does not resolve.
bool ResolveRef(const Json& root, const std::string& ref, const Json** target,
                std::string* target_ptr);
// Refuses documents nested deeper than the compiler's recursion may go (checked iteratively).
Status CheckDocumentDepth(const nlohmann::json& doc);
Status CheckDocumentDepth(const Json& doc);

class Compiler {
 public:
  Compiler(const Json& root, const JsonSchemaOptions& options) : root_(root), options_(options) {}
  StatusOr<Rx> Run();

 private:
  // --- json_schema.cc ---
  // Appends `schema` (and what its $ref and allOf bring) to `out`.
  Status Add(const Json& schema, const std::string& ptr, std::string_view via, int depth,
             Flat* out);
  StatusOr<Rx> Compile(const Flat& flat, std::string_view via, int depth);
  StatusOr<Rx> CompileCombinator(const Flat& flat, size_t part, std::string_view keyword,
                                 int depth);
  Status CheckOneOfDisjoint(const std::vector<Flat>& branches, const std::string& ptr);
  StatusOr<Rx> CompileTyped(const Flat& flat, int depth);
  StatusOr<Rx> CompileEnum(const Flat& flat, uint32_t explicit_kinds, int depth);
  Status Budget(std::string_view via, const std::string& ptr, int depth);
  // Records why a sub-language is empty; the first reason becomes the error if the whole is.
  Rx Empty(std::string_view keyword, const std::string& ptr);

  // --- json_schema_values.cc ---
  // The values of the kinds in `kinds` meeting every part of `flat`.
  StatusOr<Rx> CompileKinds(const Flat& flat, uint32_t kinds, int depth);
  StatusOr<Rx> CompileNumber(const Flat& flat, uint32_t kinds);
  StatusOr<Rx> CompileString(const Flat& flat);
  StatusOr<Rx> CompileArray(const Flat& flat, int depth);
  StatusOr<Rx> CompileObject(const Flat& flat, int depth);

  const Json& root_;
  const JsonSchemaOptions& options_;
  std::vector<const Json*> active_refs_;  // $ref targets being compiled (a repeat is a cycle)
  int64_t work_ = 0;
  std::string empty_keyword_, empty_ptr_;
};

}  // namespace sg::json_schema_internal
