// Keyword tables and document plumbing of the JSON Schema compiler (json_schema.cc states the
// design): which keywords are supported, ignored or refused; the value kinds a schema accepts or
// generates; local $ref resolution; the nesting check that runs before anything recursive; and
// the error messages.
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/constrain/json_schema_compiler.h"

namespace sg::json_schema_internal {
namespace {

constexpr int kMaxJsonDepth = 256;  // nesting of JSON values in the schema document

enum class KeywordClass { kAnnotation, kSupported, kRefused };

// False for an unknown keyword.
bool Classify(std::string_view key, KeywordClass* out) {
  static constexpr std::string_view kAnnotations[] = {
      "title",         "description", "default",          "examples",
      "$schema",       "$id",         "$comment",         "deprecated",
      "readOnly",      "writeOnly",   "contentMediaType", "contentEncoding",
      "contentSchema", "$anchor",     "$dynamicAnchor",   "$recursiveAnchor",
      "$vocabulary",   "$defs",       "definitions",      "$functions"};
  static constexpr std::string_view kSupported[] = {
      // Any value.
      "type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref",
      // Numbers.
      "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
      // Strings.
      "minLength", "maxLength", "pattern", "format",
      // Arrays.
      "items", "prefixItems", "minItems", "maxItems", "uniqueItems", "unevaluatedItems",
      // Objects.
      "properties", "required", "additionalProperties", "minProperties", "maxProperties",
      "dependentRequired", "patternProperties", "propertyNames", "dependentSchemas",
      "unevaluatedProperties"};
  static constexpr std::string_view kRefused[] = {"not",         "if",           "then",
                                                  "else",        "contains",     "minContains",
                                                  "maxContains", "dependencies", "additionalItems",
                                                  "$dynamicRef", "$recursiveRef"};
  const std::pair<std::span<const std::string_view>, KeywordClass> tables[] = {
      {kAnnotations, KeywordClass::kAnnotation},
      {kSupported, KeywordClass::kSupported},
      {kRefused, KeywordClass::kRefused}};
  for (const auto& [names, cls] : tables) {
    if (std::find(names.begin(), names.end(), key) != names.end()) {
      *out = cls;
      return true;
    }
  }
  return false;
}

bool IsExtension(std::string_view key) { return key.substr(0, 2) == "x-"; }

// A schema that accepts everything: true or {}.
bool IsTrivial(const Json& schema) {
  return (schema.is_boolean() && schema.get<bool>()) || (schema.is_object() && schema.empty());
}

uint32_t KindOfTypeName(std::string_view name) {
  if (name == "null") return kNull;
  if (name == "boolean") return kBool;
  if (name == "integer") return kInt;
  if (name == "number") return kInt | kFrac;
  if (name == "string") return kString;
  if (name == "array") return kArray;
  if (name == "object") return kObject;
  return 0;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <class J>
bool FindTooDeep(const J& doc, int limit, std::string* ptr, std::string* keyword) {
  struct Node {
    const J* value;
    int depth;
    int parent;  // index into `nodes`
    std::string token;
    bool from_object;
  };
  std::vector<Node> nodes = {{&doc, 0, -1, "", false}};
  std::vector<int> stack = {0};
  while (!stack.empty()) {
    const int index = stack.back();
    stack.pop_back();
    const J& value = *nodes[index].value;
    const int depth = nodes[index].depth;
    if (depth > limit) {
      std::vector<int> chain;
      for (int i = index; i > 0; i = nodes[i].parent) chain.push_back(i);
      ptr->clear();
      keyword->clear();
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        *ptr = PointerAppend(*ptr, nodes[*it].token);
        if (nodes[*it].from_object) *keyword = nodes[*it].token;
      }
      return true;
    }
    if (value.is_object()) {
      for (auto it = value.begin(); it != value.end(); ++it) {
        nodes.push_back({&it.value(), depth + 1, index, it.key(), true});
        stack.push_back(static_cast<int>(nodes.size()) - 1);
      }
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        nodes.push_back({&value[i], depth + 1, index, std::to_string(i), false});
        stack.push_back(static_cast<int>(nodes.size()) - 1);
      }
    }
  }
  return false;
}

template <class J>
Status CheckDepth(const J& doc) {
  std::string ptr, keyword;
  if (!FindTooDeep(doc, kMaxJsonDepth, &ptr, &keyword)) return OkStatus();
  // Appended, not operator+: GCC 12 warns spuriously (-Warray-bounds) on the concatenation.
  std::string detail = "the schema document is nested deeper than ";
  detail.append(std::to_string(kMaxJsonDepth)).append(" levels");
  return Unsupported(keyword.empty() ? "items" : keyword, ptr, detail);
}

}  // namespace

const Json* Part::Get(std::string_view keyword) const {
  if (((skip & kSkipAnyOf) && keyword == "anyOf") || ((skip & kSkipOneOf) && keyword == "oneOf") ||
      ((skip & kSkipEnum) && (keyword == "enum" || keyword == "const"))) {
    return nullptr;
  }
  auto it = schema->find(std::string(keyword));
  return it == schema->end() ? nullptr : &*it;
}

Status Unsupported(std::string_view keyword, std::string_view ptr, std::string_view detail) {
  std::string m = "JSON Schema keyword \"";
  m.append(keyword).append("\" is not supported (at ").append(ptr).append(")");
  if (!detail.empty()) m.append(": ").append(detail);
  return InvalidArgumentError(std::move(m));
}

Status BadValue(std::string_view keyword, std::string_view ptr, std::string_view what) {
  std::string m = "JSON Schema keyword \"";
  m.append(keyword).append("\" must be ").append(what).append(" (at ").append(ptr).append(")");
  return InvalidArgumentError(std::move(m));
}

std::string PointerAppend(std::string_view ptr, std::string_view token) {
  std::string out(ptr);
  out.push_back('/');
  for (char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

bool DumpJson(const Json& value, std::string* out) {
  try {
    *out = value.dump();
    return true;
  } catch (const std::exception&) {
    return false;  // a string that is not valid UTF-8
  }
}

uint32_t KindOf(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return kNull;
    case Json::value_t::boolean:
      return kBool;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return kInt;
    case Json::value_t::number_float: {
      const double v = value.get<double>();
      if (!std::isfinite(v)) return 0;  // dump() would write null
      return std::floor(v) == v ? kInt : kFrac;
    }
    case Json::value_t::string:
      return kString;
    case Json::value_t::array:
      return kArray;
    case Json::value_t::object:
      return kObject;
    default:
      return 0;
  }
}

Status CheckKeywords(const Json& schema, const std::string& ptr) {
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    const Json& value = it.value();
    if (IsExtension(key)) continue;
    KeywordClass cls;
    if (!Classify(key, &cls)) return Unsupported(key, ptr, "unknown keyword");
    if (cls == KeywordClass::kRefused) return Unsupported(key, ptr);
    if (key == "$id" && !ptr.empty()) {
      return Unsupported(key, ptr,
                         "only the root may set $id (references are resolved in one "
                         "document)");
    }
    if (key == "patternProperties" || key == "dependentSchemas") {
      if (!value.is_object()) return BadValue(key, ptr, "an object");
      if (!value.empty()) return Unsupported(key, ptr);
    }
    if ((key == "propertyNames" || key == "unevaluatedProperties" || key == "unevaluatedItems") &&
        !IsTrivial(value)) {
      return Unsupported(key, ptr);
    }
  }
  return OkStatus();
}

// Keywords that narrow the value, other than type/enum/const (and the ones flattening removed).
bool HasOtherConstraints(const Flat& flat) {
  for (const Part& part : flat.parts) {
    for (auto it = part.schema->begin(); it != part.schema->end(); ++it) {
      const std::string& key = it.key();
      KeywordClass cls;
      if (IsExtension(key) || !Classify(key, &cls) || cls != KeywordClass::kSupported) continue;
      if (key == "type" || key == "enum" || key == "const" || key == "$ref" || key == "allOf") {
        continue;
      }
      if (part.Get(key) != nullptr) return true;
    }
  }
  return false;
}

Status ParseType(const Json& type, const std::string& ptr, uint32_t* kinds) {
  static constexpr std::string_view kWhat =
      "a type name or a non-empty array of them (null, boolean, integer, number, string, array, "
      "object)";
  *kinds = 0;
  if (type.is_string()) {
    *kinds = KindOfTypeName(type.get_ref<const std::string&>());
    if (*kinds == 0) return BadValue("type", ptr, kWhat);
    return OkStatus();
  }
  if (!type.is_array() || type.empty()) return BadValue("type", ptr, kWhat);
  for (const Json& t : type) {
    const uint32_t k = t.is_string() ? KindOfTypeName(t.get_ref<const std::string&>()) : 0;
    if (k == 0) return BadValue("type", ptr, kWhat);
    *kinds |= k;
  }
  return OkStatus();
}

// The kinds whose keywords appear (0: none, an untyped schema accepts anything).
uint32_t InferKinds(const Flat& flat) {
  struct Family {
    std::string_view keyword;
    uint32_t kinds;
  };
  static constexpr Family kFamilies[] = {{"properties", kObject},
                                         {"required", kObject},
                                         {"additionalProperties", kObject},
                                         {"minProperties", kObject},
                                         {"maxProperties", kObject},
                                         {"patternProperties", kObject},
                                         {"propertyNames", kObject},
                                         {"dependentRequired", kObject},
                                         {"dependentSchemas", kObject},
                                         {"unevaluatedProperties", kObject},
                                         {"items", kArray},
                                         {"prefixItems", kArray},
                                         {"minItems", kArray},
                                         {"maxItems", kArray},
                                         {"uniqueItems", kArray},
                                         {"unevaluatedItems", kArray},
                                         {"minLength", kString},
                                         {"maxLength", kString},
                                         {"pattern", kString},
                                         {"format", kString},
                                         {"minimum", kInt | kFrac},
                                         {"maximum", kInt | kFrac},
                                         {"exclusiveMinimum", kInt | kFrac},
                                         {"exclusiveMaximum", kInt | kFrac},
                                         {"multipleOf", kInt | kFrac}};
  uint32_t kinds = 0;
  for (const Part& part : flat.parts) {
    for (const Family& f : kFamilies) {
      if (part.Get(f.keyword) != nullptr) kinds |= f.kinds;
    }
  }
  return kinds;
}

// Kinds a conjunction can accept (a superset): its types and enum/const values.
uint32_t AcceptKinds(const Flat& flat) {
  if (flat.never) return 0;
  uint32_t kinds = kAllKinds;
  for (const Part& part : flat.parts) {
    uint32_t k;
    if (const Json* t = part.Get("type"); t != nullptr && ParseType(*t, part.ptr, &k).ok()) {
      kinds &= k;
    }
    if (const Json* c = part.Get("const")) kinds &= KindOf(*c);
    if (const Json* e = part.Get("enum"); e != nullptr && e->is_array()) {
      uint32_t ek = 0;
      for (const Json& v : *e) ek |= KindOf(v);
      kinds &= ek;
    }
  }
  return kinds;
}

// Kinds the compiler generates for a conjunction (a superset).
uint32_t GenerateKinds(const Flat& flat) {
  const uint32_t accept = AcceptKinds(flat);
  for (const Part& part : flat.parts) {
    if (part.Get("anyOf") || part.Get("oneOf") || part.Get("type") || part.Get("enum") ||
        part.Get("const")) {
      return accept;
    }
  }
  const uint32_t inferred = InferKinds(flat);
  return inferred == 0 ? accept : accept & inferred;
}
// Resolves a local reference ("#" or "#/<pointer>"). False when it is not local or does not
// resolve; *target is then null.
bool ResolveRef(const Json& root, const std::string& ref, const Json** target,
                std::string* target_ptr) {
  *target = nullptr;
  target_ptr->clear();
  if (ref.empty() || ref[0] != '#') return false;
  std::string pointer;  // the fragment, percent-decoded
  for (size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] != '%') {
      pointer.push_back(ref[i]);
      continue;
    }
    if (i + 2 >= ref.size() || HexValue(ref[i + 1]) < 0 || HexValue(ref[i + 2]) < 0) return false;
    pointer.push_back(static_cast<char>(HexValue(ref[i + 1]) * 16 + HexValue(ref[i + 2])));
    i += 2;
  }
  if (!pointer.empty() && pointer[0] != '/') return false;  // "#anchor": not supported
  const Json* cur = &root;
  size_t pos = 0;
  while (pos < pointer.size()) {
    const size_t next = std::min(pointer.find('/', pos + 1), pointer.size());
    std::string token;
    for (size_t i = pos + 1; i < next; ++i) {
      if (pointer[i] != '~') {
        token.push_back(pointer[i]);
      } else if (i + 1 < next && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token.push_back(pointer[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        return false;
      }
    }
    pos = next;
    if (cur->is_object()) {
      auto it = cur->find(token);
      if (it == cur->end()) return false;
      cur = &*it;
    } else if (cur->is_array()) {
      if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0') ||
          !std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return false;
      }
      const size_t index = std::stoul(token);
      if (index >= cur->size()) return false;
      cur = &(*cur)[index];
    } else {
      return false;
    }
    *target_ptr = PointerAppend(*target_ptr, token);
  }
  *target = cur;
  return true;
}

// Iterative (the document may be hostile): the pointer of a value nested deeper than `limit`,
// and the last object key on its path, or false.
Status CheckDocumentDepth(const nlohmann::json& doc) { return CheckDepth(doc); }
Status CheckDocumentDepth(const Json& doc) { return CheckDepth(doc); }

}  // namespace sg::json_schema_internal
