// JSON Schema (draft 2020-12) -> Rx over the bytes of a JSON text. FAIL CLOSED: every accepted
// text validates (ajv 2020 + ajv-formats "full"); anything that cannot be enforced is refused
// with InvalidArgument:  JSON Schema keyword "<kw>" is not supported (at <json pointer>)[: why]
// or, for a malformed value,  JSON Schema keyword "<kw>" must be <what> (at <json pointer>).
// The root's pointer is the empty string, as in RFC 6901.
//
// Shape of the generated text (a subset of the valid texts, kept small for the DFA):
//  - whitespace: at most one space after { [ , : and before } ]; none elsewhere (none around
//    the whole text either).
//  - objects: declared properties in the schema's order (ordered_json keeps it; the nlohmann::json
//    overload sees keys sorted), required ones always, optional ones possibly omitted; required
//    names that are not declared follow, with the additionalProperties schema (any value when it
//    is absent or true; refused when false). No undeclared property is generated when properties
//    are declared; with none declared, additionalProperties (a schema, or any value when absent)
//    gives a map of arbitrary string keys. maxProperties keeps only the first optional properties
//    that fit; minProperties must already follow from `required`.
//  - arrays: prefixItems then items; with prefixItems and no items, no further elements are
//    generated. Counted elements are unrolled: maxItems over kMaxItemsUnroll is lowered to it (a
//    shorter array is still valid), minItems over it is refused.
//  - strings: see JsonCharRx (escapes allowed, surrogate escapes never; \uXXXX only in strings
//    without maxLength, as it costs a third of a counted character's DFA states). Lengths count
//    code points (an escape is one), as ajv does. maxLength over kMaxStringUnroll is lowered to
//    it; minLength over it is refused. pattern: ECMAScript syntax (regex_parser.h), and the WHOLE
//    string must match it (a subset of JSON Schema's unanchored search), its characters written
//    as JSON (" \ and controls escaped). With minLength/maxLength the length is intersected
//    exactly where the pattern's shape allows; otherwise, if the pattern already implies the
//    minLength, a sub-language within maxLength is generated (json_schema_lexical.h); else it is
//    refused. format: date, time, date-time, uuid, email (subsets, json_schema_lexical.cc),
//    lengths as for patterns; any other format is refused.
//  - numbers: integers as -?(0|[1-9][0-9]*) without exponent, at most 15 digits, with every bound
//    (integral or not) applied exactly. "number" adds fractions (and an exponent when unbounded);
//    its bounds must be integers, and fractions are generated only with integer parts whose
//    every fraction stays in range. multipleOf: only 1 (then integers).
//  - enum/const: the compact serialization of each value (nlohmann dump()); values of other
//    kinds than `type` allows are dropped, and when other keywords apply too, each value is kept
//    only if the rest of the schema's own automaton accepts its text.
//  - anyOf: alternation; the combinator's sibling keywords are conjoined into each branch.
//    oneOf: the same, only when the branches are provably disjoint (no value kind one branch
//    generates is accepted by another, or objects told apart by a required property whose
//    const/enum values are disjoint). allOf and $ref: conjunction (keywords of all parts
//    combine: bounds tighten, required lists unite, a property declared twice must meet both
//    schemas; two different patterns, formats or combinators on one value are refused).
//  - $ref: "#" and "#/<json pointer>" (~0 ~1 and %XX decoded) anywhere in the document, e.g.
//    #/$defs/x, #/definitions/x, TGI's #/$functions/x. A reference cycle is refused.
//  - {} / no type and no type-specific keyword: any JSON value to max_any_depth levels.
//    Without `type`, the kinds are those whose keywords appear ({"properties":...} generates
//    objects only: valid, since the keywords of other kinds never reject anything).
//
// Keywords. Constraining and supported: type enum const properties required additionalProperties
// items prefixItems minItems maxItems minLength maxLength pattern format minimum maximum
// exclusiveMinimum exclusiveMaximum anyOf oneOf allOf $ref; supported only where trivially met
// or restrictable: multipleOf (1), uniqueItems (false, or maxItems <= 1), minProperties,
// maxProperties, dependentRequired, patternProperties ({}), propertyNames (true, {}),
// dependentSchemas ({}), unevaluatedProperties / unevaluatedItems (true, {}). Refused: not if
// then else contains minContains maxContains dependencies additionalItems $dynamicRef
// $recursiveRef, $id below the root, and every unknown keyword (except "x-..." extensions).
// Ignored annotations: title description default examples $schema $id (root) $comment
// deprecated readOnly writeOnly contentMediaType contentEncoding contentSchema $anchor
// $dynamicAnchor $recursiveAnchor $vocabulary, and the containers $defs definitions $functions.
//
// Bounded work on hostile input: JSON nesting over kMaxJsonDepth is refused before anything
// recursive runs; subschema nesting over kMaxSchemaDepth and more than kMaxWork subschema visits
// (e.g. a DAG of $refs that doubles at every level) are refused naming the keyword.
#include "engine/constrain/json_schema.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "engine/constrain/byte_dfa.h"
#include "engine/constrain/json_schema_compiler.h"

namespace sg {
namespace json_schema_internal {
namespace {

constexpr int kMaxSchemaDepth = 64;  // nesting of subschemas ($ref and allOf hops included)
constexpr int64_t kMaxWork = 20000;  // subschema visits per compile (~4 us each)

bool IsScalar(const Json& v) { return !v.is_object() && !v.is_array(); }

// No value of `a` equals a value of `b` (both lists of scalars, so == is JSON Schema equality).
bool Disjoint(const std::vector<const Json*>& a, const std::vector<const Json*>& b) {
  for (const Json* x : a) {
    for (const Json* y : b) {
      if (*x == *y) return false;
    }
  }
  return true;
}

class RefGuard {
 public:
  RefGuard(std::vector<const Json*>* active, const std::vector<const Json*>& refs)
      : active_(active), count_(refs.size()) {
    active_->insert(active_->end(), refs.begin(), refs.end());
  }
  ~RefGuard() { active_->resize(active_->size() - count_); }
  RefGuard(const RefGuard&) = delete;
  RefGuard& operator=(const RefGuard&) = delete;

 private:
  std::vector<const Json*>* active_;
  size_t count_;
};

}  // namespace

Status Compiler::Budget(std::string_view via, const std::string& ptr, int depth) {
  const std::string_view kw = via.empty() ? std::string_view("$ref") : via;
  if (++work_ > kMaxWork) {
    return Unsupported(
        kw, ptr, "the schema expands to more than " + std::to_string(kMaxWork) + " subschemas");
  }
  if (depth > kMaxSchemaDepth) {
    return Unsupported(
        kw, ptr, "subschemas nested deeper than " + std::to_string(kMaxSchemaDepth) + " levels");
  }
  return OkStatus();
}

Rx Compiler::Empty(std::string_view keyword, const std::string& ptr) {
  if (empty_keyword_.empty()) {
    empty_keyword_ = keyword.empty() ? std::string("false") : std::string(keyword);
    empty_ptr_ = ptr;
  }
  return RxNothing();
}

Status Compiler::Add(const Json& schema, const std::string& ptr, std::string_view via, int depth,
                     Flat* out) {
  SG_RETURN_IF_ERROR(Budget(via, ptr, depth));
  if (out->parts.empty() && !out->never) out->ptr = ptr;
  if (schema.is_boolean()) {
    if (!schema.get<bool>() && !out->never) {
      out->never = true;
      out->never_keyword = via.empty() ? "false" : std::string(via);
      out->never_ptr = ptr;
    }
    return OkStatus();
  }
  if (!schema.is_object()) {
    if (via.empty()) {
      return InvalidArgumentError("JSON Schema must be an object or a boolean (at " + ptr + ")");
    }
    return BadValue(via, ptr, "a schema (an object or a boolean)");
  }
  SG_RETURN_IF_ERROR(CheckKeywords(schema, ptr));
  out->parts.push_back(Part{&schema, ptr, 0});
  if (auto it = schema.find("$ref"); it != schema.end()) {
    if (!it->is_string()) return BadValue("$ref", ptr, "a string");
    const std::string& ref = it->get_ref<const std::string&>();
    const Json* target = nullptr;
    std::string target_ptr;
    if (!ResolveRef(root_, ref, &target, &target_ptr)) {
      return Unsupported("$ref", ptr,
                         "\"" + ref +
                             "\" does not resolve to a location in this document (supported: "
                             "\"#\" and \"#/<json pointer>\")");
    }
    if (!target->is_object() && !target->is_boolean()) {
      return BadValue("$ref", ptr, "a reference to a schema");
    }
    if (std::find(active_refs_.begin(), active_refs_.end(), target) != active_refs_.end()) {
      return Unsupported("$ref", ptr, "\"" + ref + "\" is recursive");
    }
    active_refs_.push_back(target);
    Status s = Add(*target, target_ptr, "$ref", depth + 1, out);
    active_refs_.pop_back();
    SG_RETURN_IF_ERROR(s);
    out->refs.push_back(target);
  }
  if (auto it = schema.find("allOf"); it != schema.end()) {
    if (!it->is_array() || it->empty()) {
      return BadValue("allOf", ptr, "a non-empty array of schemas");
    }
    const std::string base = PointerAppend(ptr, "allOf");
    for (size_t i = 0; i < it->size(); ++i) {
      SG_RETURN_IF_ERROR(
          Add((*it)[i], PointerAppend(base, std::to_string(i)), "allOf", depth + 1, out));
    }
  }
  return OkStatus();
}

StatusOr<Rx> Compiler::Compile(const Flat& flat, std::string_view via, int depth) {
  SG_RETURN_IF_ERROR(Budget(via, flat.ptr, depth));
  if (flat.never) return Empty(flat.never_keyword, flat.never_ptr);
  RefGuard guard(&active_refs_, flat.refs);
  size_t holder = flat.parts.size();
  std::string_view combinator;
  for (size_t i = 0; i < flat.parts.size(); ++i) {
    for (std::string_view kw : {std::string_view("anyOf"), std::string_view("oneOf")}) {
      if (flat.parts[i].Get(kw) == nullptr) continue;
      if (holder != flat.parts.size()) {
        return Unsupported(kw, flat.parts[i].ptr,
                           "only one anyOf/oneOf may apply to a value (here another one applies "
                           "through allOf, $ref or the same schema)");
      }
      holder = i;
      combinator = kw;
    }
  }
  if (holder != flat.parts.size()) return CompileCombinator(flat, holder, combinator, depth);
  return CompileTyped(flat, depth);
}

StatusOr<Rx> Compiler::CompileCombinator(const Flat& flat, size_t holder, std::string_view keyword,
                                         int depth) {
  const Part& part = flat.parts[holder];
  const Json& branches = *part.Get(keyword);
  if (!branches.is_array() || branches.empty()) {
    return BadValue(keyword, part.ptr, "a non-empty array of schemas");
  }
  const uint32_t skip = keyword == "anyOf" ? kSkipAnyOf : kSkipOneOf;
  const std::string base = PointerAppend(part.ptr, keyword);
  std::vector<Flat> flats(branches.size());
  for (size_t i = 0; i < branches.size(); ++i) {
    Flat& b = flats[i];
    SG_RETURN_IF_ERROR(
        Add(branches[i], PointerAppend(base, std::to_string(i)), keyword, depth + 1, &b));
    // The combinator's siblings (and the rest of the conjunction) hold in every branch.
    for (size_t j = 0; j < flat.parts.size(); ++j) {
      Part p = flat.parts[j];
      if (j == holder) p.skip |= skip;
      b.parts.push_back(std::move(p));
    }
  }
  if (keyword == "oneOf") SG_RETURN_IF_ERROR(CheckOneOfDisjoint(flats, part.ptr));
  std::vector<Rx> options;
  for (Flat& b : flats) {
    SG_ASSIGN_OR_RETURN(Rx rx, Compile(b, keyword, depth + 1));
    options.push_back(std::move(rx));
  }
  Rx out = RxAlt(std::move(options));
  if (out->kind == RxKind::kNothing) return Empty(keyword, part.ptr);
  return out;
}

Status Compiler::CheckOneOfDisjoint(const std::vector<Flat>& branches, const std::string& ptr) {
  const size_t n = branches.size();
  std::vector<uint32_t> accept(n), generate(n);
  for (size_t i = 0; i < n; ++i) {
    accept[i] = AcceptKinds(branches[i]);
    generate[i] = GenerateKinds(branches[i]) & accept[i];
  }
  // The scalar const/enum values a branch allows for property `name`, one list per part that
  // constrains it (a generated value is in every list).
  auto value_sets = [&](const Flat& flat, const std::string& name) {
    std::vector<std::vector<const Json*>> sets;
    for (const Part& part : flat.parts) {
      const Json* props = part.Get("properties");
      if (props == nullptr || !props->is_object()) continue;
      auto it = props->find(name);
      if (it == props->end()) continue;
      Flat pf;
      if (!Add(*it, PointerAppend(PointerAppend(part.ptr, "properties"), name), "properties", 0,
               &pf)
               .ok()) {
        continue;
      }
      for (const Part& pp : pf.parts) {
        std::vector<const Json*> values;
        if (const Json* c = pp.Get("const")) values.push_back(c);
        if (const Json* e = pp.Get("enum"); e != nullptr && e->is_array()) {
          for (const Json& v : *e) values.push_back(&v);
        }
        if (!values.empty() &&
            std::all_of(values.begin(), values.end(), [](const Json* v) { return IsScalar(*v); })) {
          sets.push_back(std::move(values));
        }
      }
    }
    return sets;
  };
  // Every object branch i generates has its required properties; one whose values are disjoint
  // from what branch j allows there makes the object fail j.
  auto discriminated = [&](const Flat& bi, const Flat& bj) {
    for (const Part& part : bi.parts) {
      const Json* required = part.Get("required");
      if (required == nullptr || !required->is_array()) continue;
      for (const Json& r : *required) {
        if (!r.is_string()) continue;
        const std::string& name = r.get_ref<const std::string&>();
        for (const auto& si : value_sets(bi, name)) {
          for (const auto& sj : value_sets(bj, name)) {
            if (Disjoint(si, sj)) return true;
          }
        }
      }
    }
    return false;
  };
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (i == j || (generate[i] & accept[j]) == 0) continue;
      if (generate[i] == kObject && discriminated(branches[i], branches[j])) continue;
      return Unsupported("oneOf", ptr,
                         "branches " + std::to_string(i) + " and " + std::to_string(j) +
                             " may accept the same value (supported: branches of different "
                             "types, or objects told apart by a required property's "
                             "const/enum)");
    }
  }
  return OkStatus();
}

StatusOr<Rx> Compiler::CompileTyped(const Flat& flat, int depth) {
  uint32_t kinds = kAllKinds;
  bool typed = false, has_enum = false;
  for (const Part& part : flat.parts) {
    if (const Json* t = part.Get("type")) {
      uint32_t k;
      SG_RETURN_IF_ERROR(ParseType(*t, part.ptr, &k));
      kinds &= k;
      typed = true;
    }
    has_enum = has_enum || part.Get("enum") != nullptr || part.Get("const") != nullptr;
  }
  if (has_enum) return CompileEnum(flat, kinds, depth);
  if (kinds == 0) return Empty("type", flat.ptr);
  if (!typed) {
    kinds = InferKinds(flat);
    if (kinds == 0) return JsonAnyValueRx(std::max(options_.max_any_depth, 0));
  }
  return CompileKinds(flat, kinds, depth);
}

StatusOr<Rx> Compiler::CompileEnum(const Flat& flat, uint32_t explicit_kinds, int depth) {
  std::vector<const Json*> candidates;
  bool first = true;
  std::string where = flat.ptr;
  std::string_view keyword = "enum";
  for (const Part& part : flat.parts) {
    for (std::string_view kw : {std::string_view("enum"), std::string_view("const")}) {
      const Json* v = part.Get(kw);
      if (v == nullptr) continue;
      std::vector<const Json*> values;
      if (kw == "enum") {
        if (!v->is_array()) return BadValue(kw, part.ptr, "an array");
        if (v->size() > static_cast<size_t>(std::max(options_.max_enum_values, 0))) {
          return Unsupported(kw, part.ptr,
                             "more than " + std::to_string(options_.max_enum_values) + " values");
        }
        for (const Json& e : *v) values.push_back(&e);
      } else {
        values.push_back(v);
      }
      if (first) {
        candidates = std::move(values);
        where = part.ptr;
        keyword = kw;
        first = false;
        continue;
      }
      std::erase_if(candidates, [&](const Json* c) {
        return std::none_of(values.begin(), values.end(), [&](const Json* w) { return *c == *w; });
      });
    }
  }
  std::erase_if(candidates, [&](const Json* c) { return (KindOf(*c) & explicit_kinds) == 0; });
  std::vector<std::string> texts;
  for (const Json* c : candidates) {
    std::string text;
    if (!DumpJson(*c, &text)) return BadValue(keyword, where, "valid UTF-8 throughout");
    texts.push_back(std::move(text));
  }
  if (!texts.empty() && HasOtherConstraints(flat)) {
    // Keep only the values the rest of the schema accepts, as its own automaton decides.
    Flat rest = flat;
    for (Part& p : rest.parts) p.skip |= kSkipEnum;
    uint32_t kinds = 0;
    for (const Json* c : candidates) kinds |= KindOf(*c);
    SG_ASSIGN_OR_RETURN(Rx rest_rx, CompileKinds(rest, kinds, depth));
    auto dfa = ByteDfa::Compile(rest_rx);
    if (!dfa.ok()) {
      return Unsupported(keyword, where,
                         "the keywords beside it are too large to check its values against: " +
                             dfa.status().message());
    }
    std::erase_if(texts, [&](const std::string& t) { return !dfa->Matches(t); });
  }
  std::vector<Rx> options;
  for (const std::string& t : texts) options.push_back(RxLiteral(t));
  if (options.empty()) return Empty(keyword, where);
  return RxAlt(std::move(options));
}

StatusOr<Rx> Compiler::Run() {
  Flat flat;
  SG_RETURN_IF_ERROR(Add(root_, "", "", 0, &flat));
  SG_ASSIGN_OR_RETURN(Rx rx, Compile(flat, "", 0));
  if (rx->kind == RxKind::kNothing) {
    const std::string keyword = empty_keyword_.empty() ? "false" : empty_keyword_;
    return InvalidArgumentError("JSON Schema keyword \"" + keyword +
                                "\" leaves no value that validates (at " + empty_ptr_ + ")");
  }
  return rx;
}

}  // namespace json_schema_internal

StatusOr<Rx> JsonSchemaToRx(const nlohmann::ordered_json& schema,
                            const JsonSchemaOptions& options) {
  SG_RETURN_IF_ERROR(json_schema_internal::CheckDocumentDepth(schema));
  try {
    json_schema_internal::Compiler compiler(schema, options);
    return compiler.Run();
  } catch (const std::exception& e) {
    // Not expected (types are checked before every access); kept so that nothing escapes.
    return InvalidArgumentError(std::string("JSON Schema could not be compiled: ") + e.what());
  }
}

StatusOr<Rx> JsonSchemaToRx(const nlohmann::json& schema, const JsonSchemaOptions& options) {
  SG_RETURN_IF_ERROR(json_schema_internal::CheckDocumentDepth(schema));
  try {
    const nlohmann::ordered_json ordered = schema;
    return JsonSchemaToRx(ordered, options);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("JSON Schema could not be compiled: ") + e.what());
  }
}

}  // namespace sg
