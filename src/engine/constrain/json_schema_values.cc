// The JSON Schema compiler's builders per JSON type (json_schema.cc states the design): numbers
// and integers within bounds, strings with lengths, patterns and formats, arrays with
// prefixItems/items and counts, objects with properties in order. Each reads a keyword from every
// part of the conjunction and combines them (bounds tighten; required lists unite; a property
// declared in several parts must meet all of its schemas).
#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/constrain/json_schema_compiler.h"
#include "engine/constrain/json_schema_lexical.h"
#include "engine/constrain/regex_parser.h"

namespace sg::json_schema_internal {
namespace {

using json_lex::kMaxIntegerMagnitude;

// Counted repeats are unrolled by the DFA builder: each copy of a string character or an array
// element is new states. Larger maxima are lowered to these (shorter values stay valid); larger
// minima are refused.
constexpr int64_t kMaxStringUnroll = 256;  // characters
constexpr int64_t kMaxItemsUnroll = 64;    // array elements
constexpr int64_t kMaxMapUnroll = 64;      // members of a map with maxProperties
constexpr int64_t kUnbounded = -1;

// A non-negative integer keyword combined over the parts: the largest (`lower` limits such as
// minLength) or the smallest (upper limits) value. *present stays false when no part has it.
Status ReadCount(const Flat& flat, std::string_view keyword, bool lower, bool* present,
                 int64_t* value, std::string* ptr) {
  *present = false;
  for (const Part& part : flat.parts) {
    const Json* v = part.Get(keyword);
    if (v == nullptr) continue;
    double d = -1;
    if (v->is_number()) d = v->get<double>();
    if (!(d >= 0) || std::floor(d) != d)
      return BadValue(keyword, part.ptr, "a non-negative integer");
    const int64_t n = static_cast<int64_t>(std::min(d, 1e15));
    if (!*present || (lower ? n > *value : n < *value)) {
      *value = n;
      *ptr = part.ptr;
    }
    *present = true;
  }
  return OkStatus();
}

struct Bound {
  bool present = false;
  double value = 0;
  std::string ptr;
};

// The tightest value of a numeric bound over the parts.
Status ReadBound(const Flat& flat, std::string_view keyword, bool lower, Bound* out) {
  for (const Part& part : flat.parts) {
    const Json* v = part.Get(keyword);
    if (v == nullptr) continue;
    if (!v->is_number()) return BadValue(keyword, part.ptr, "a number");
    const double d = v->get<double>();
    if (!std::isfinite(d)) return BadValue(keyword, part.ptr, "a finite number");
    if (!out->present || (lower ? d > out->value : d < out->value)) {
      out->value = d;
      out->ptr = part.ptr;
    }
    out->present = true;
  }
  return OkStatus();
}

// A bound as an integer within +-1e16 (beyond every generated value, so clamping never changes
// which values pass).
int64_t Clamp(double v) { return static_cast<int64_t>(std::clamp(v, -1e16, 1e16)); }

// Distinct string values of a keyword over the parts (with where each first appears).
Status ReadStrings(const Flat& flat, std::string_view keyword,
                   std::vector<std::pair<std::string, std::string>>* out) {
  for (const Part& part : flat.parts) {
    const Json* v = part.Get(keyword);
    if (v == nullptr) continue;
    if (!v->is_string()) return BadValue(keyword, part.ptr, "a string");
    const std::string& s = v->get_ref<const std::string&>();
    if (std::none_of(out->begin(), out->end(), [&](const auto& e) { return e.first == s; })) {
      out->emplace_back(s, part.ptr);
    }
  }
  return OkStatus();
}

Rx Quoted(Rx body) { return RxConcat({RxByte('"'), std::move(body), RxByte('"')}); }

Rx Comma() { return RxConcat({RxByte(','), JsonWhitespace()}); }

}  // namespace

StatusOr<Rx> Compiler::CompileKinds(const Flat& flat, uint32_t kinds, int depth) {
  std::vector<Rx> options;
  if (kinds & kNull) options.push_back(RxLiteral("null"));
  if (kinds & kBool) options.push_back(RxAlt({RxLiteral("true"), RxLiteral("false")}));
  if (kinds & (kInt | kFrac)) {
    SG_ASSIGN_OR_RETURN(Rx rx, CompileNumber(flat, kinds));
    options.push_back(std::move(rx));
  }
  if (kinds & kString) {
    SG_ASSIGN_OR_RETURN(Rx rx, CompileString(flat));
    options.push_back(std::move(rx));
  }
  if (kinds & kArray) {
    SG_ASSIGN_OR_RETURN(Rx rx, CompileArray(flat, depth));
    options.push_back(std::move(rx));
  }
  if (kinds & kObject) {
    SG_ASSIGN_OR_RETURN(Rx rx, CompileObject(flat, depth));
    options.push_back(std::move(rx));
  }
  return RxAlt(std::move(options));
}

StatusOr<Rx> Compiler::CompileNumber(const Flat& flat, uint32_t kinds) {
  bool integer_only = (kinds & kFrac) == 0;
  for (const Part& part : flat.parts) {
    const Json* m = part.Get("multipleOf");
    if (m == nullptr) continue;
    if (!m->is_number() || !(m->get<double>() > 0)) {
      return BadValue("multipleOf", part.ptr, "a number greater than 0");
    }
    if (m->get<double>() != 1) {
      return Unsupported("multipleOf", part.ptr, "only multipleOf 1 is supported");
    }
    integer_only = true;  // a multiple of 1 is an integer
  }
  Bound lo_inc, lo_exc, hi_inc, hi_exc;
  SG_RETURN_IF_ERROR(ReadBound(flat, "minimum", true, &lo_inc));
  SG_RETURN_IF_ERROR(ReadBound(flat, "exclusiveMinimum", true, &lo_exc));
  SG_RETURN_IF_ERROR(ReadBound(flat, "maximum", false, &hi_inc));
  SG_RETURN_IF_ERROR(ReadBound(flat, "exclusiveMaximum", false, &hi_exc));
  const std::pair<const Bound*, std::string_view> bounds[] = {{&lo_inc, "minimum"},
                                                              {&lo_exc, "exclusiveMinimum"},
                                                              {&hi_inc, "maximum"},
                                                              {&hi_exc, "exclusiveMaximum"}};
  std::string_view first_kw;
  std::string first_ptr = flat.ptr;
  for (const auto& [b, kw] : bounds) {
    if (b->present && first_kw.empty()) {
      first_kw = kw;
      first_ptr = b->ptr;
    }
  }
  if (integer_only) {
    // Integers: every bound applies exactly (ceil/floor of a double bound is exact).
    int64_t lo = -kMaxIntegerMagnitude, hi = kMaxIntegerMagnitude;
    if (lo_inc.present) lo = std::max(lo, Clamp(std::ceil(lo_inc.value)));
    if (lo_exc.present) lo = std::max(lo, Clamp(std::floor(lo_exc.value)) + 1);
    if (hi_inc.present) hi = std::min(hi, Clamp(std::floor(hi_inc.value)));
    if (hi_exc.present) hi = std::min(hi, Clamp(std::ceil(hi_exc.value)) - 1);
    if (lo > hi) return Empty(first_kw, first_ptr);
    return json_lex::IntegerRangeRx(lo, hi);
  }
  if (first_kw.empty()) return json_lex::UnboundedNumberRx();
  for (const auto& [b, kw] : bounds) {
    if (b->present && std::floor(b->value) != b->value) {
      return Unsupported(kw, b->ptr,
                         "a bound of a \"number\" must be an integer (an \"integer\" may have "
                         "any bound)");
    }
  }
  json_lex::NumberBounds nb;
  if (lo_inc.present) {
    nb.int_lo = std::max(nb.int_lo, Clamp(lo_inc.value));
    nb.frac_lo = std::max(nb.frac_lo, Clamp(lo_inc.value) + 1);
  }
  if (lo_exc.present) {
    nb.int_lo = std::max(nb.int_lo, Clamp(lo_exc.value) + 1);
    nb.frac_lo = std::max(nb.frac_lo, Clamp(lo_exc.value) + 1);
  }
  if (hi_inc.present) {
    nb.int_hi = std::min(nb.int_hi, Clamp(hi_inc.value));
    nb.frac_hi = std::min(nb.frac_hi, Clamp(hi_inc.value) - 1);
  }
  if (hi_exc.present) {
    nb.int_hi = std::min(nb.int_hi, Clamp(hi_exc.value) - 1);
    nb.frac_hi = std::min(nb.frac_hi, Clamp(hi_exc.value) - 1);
  }
  Rx rx = json_lex::BoundedNumberRx(nb);
  if (rx->kind == RxKind::kNothing) return Empty(first_kw, first_ptr);
  return rx;
}

StatusOr<Rx> Compiler::CompileString(const Flat& flat) {
  bool has_min = false, has_max = false;
  int64_t min_len = 0, max_len = kUnbounded;
  std::string min_ptr, max_ptr;
  SG_RETURN_IF_ERROR(ReadCount(flat, "minLength", true, &has_min, &min_len, &min_ptr));
  SG_RETURN_IF_ERROR(ReadCount(flat, "maxLength", false, &has_max, &max_len, &max_ptr));
  if (!has_min) min_len = 0;
  if (!has_max) max_len = kUnbounded;
  if (max_len != kUnbounded && min_len > max_len) return Empty("minLength", min_ptr);
  std::vector<std::pair<std::string, std::string>> patterns, formats;
  SG_RETURN_IF_ERROR(ReadStrings(flat, "pattern", &patterns));
  SG_RETURN_IF_ERROR(ReadStrings(flat, "format", &formats));
  const bool limited = has_min || has_max;
  if (!patterns.empty()) {
    const std::string& ptr = patterns[0].second;
    if (patterns.size() > 1) {
      return Unsupported("pattern", patterns[1].second,
                         "two different patterns apply to the same string");
    }
    if (!formats.empty()) return Unsupported("pattern", ptr, "together with \"format\"");
    StatusOr<Rx> parsed = ParseRegex(patterns[0].first);
    if (!parsed.ok()) return Unsupported("pattern", ptr, parsed.status().message());
    Rx content = *parsed;
    if (limited) {
      content = json_lex::IntersectCharLength(content, min_len, max_len);
      if (content == nullptr) {
        return Unsupported("pattern", ptr,
                           "together with a minLength that this pattern's shape cannot be "
                           "limited to exactly");
      }
    }
    Rx body = json_lex::JsonEscapeContent(content);
    if (body == nullptr) return Unsupported("pattern", ptr, "nested too deeply");
    if (body->kind == RxKind::kNothing) return Empty("pattern", ptr);
    return Quoted(std::move(body));
  }
  if (!formats.empty()) {
    const std::string& ptr = formats[0].second;
    if (formats.size() > 1) {
      return Unsupported("format", formats[1].second,
                         "two different formats apply to the same string");
    }
    Rx content = json_lex::FormatContentRx(formats[0].first);
    if (content == nullptr) {
      return Unsupported(
          "format", ptr,
          "format \"" + formats[0].first + "\" (supported: date, time, date-time, uuid, email)");
    }
    if (limited) {
      content = json_lex::IntersectCharLength(content, min_len, max_len);
      if (content == nullptr) {
        return Unsupported("format", ptr,
                           "together with a minLength that this format cannot be limited to "
                           "exactly");
      }
      if (content->kind == RxKind::kNothing) return Empty("format", ptr);
    }
    return Quoted(std::move(content));  // formats are ASCII without characters to escape
  }
  if (min_len > kMaxStringUnroll) {
    return Unsupported("minLength", min_ptr,
                       "at most " + std::to_string(kMaxStringUnroll) + " is supported");
  }
  if (max_len != kUnbounded) max_len = std::min(max_len, std::max(min_len, kMaxStringUnroll));
  return JsonStringRx(static_cast<int32_t>(min_len),
                      max_len == kUnbounded ? kRxUnbounded : static_cast<int32_t>(max_len));
}

StatusOr<Rx> Compiler::CompileArray(const Flat& flat, int depth) {
  bool has_min = false, has_max = false;
  int64_t min_items = 0, max_items = kUnbounded;
  std::string min_ptr, max_ptr;
  SG_RETURN_IF_ERROR(ReadCount(flat, "minItems", true, &has_min, &min_items, &min_ptr));
  SG_RETURN_IF_ERROR(ReadCount(flat, "maxItems", false, &has_max, &max_items, &max_ptr));
  if (!has_min) min_items = 0;
  if (!has_max) max_items = kUnbounded;
  if (max_items != kUnbounded && min_items > max_items) return Empty("minItems", min_ptr);
  size_t prefix_len = 0;
  bool any_items = false, any_prefix = false;
  for (const Part& part : flat.parts) {
    if (const Json* u = part.Get("uniqueItems")) {
      if (!u->is_boolean()) return BadValue("uniqueItems", part.ptr, "a boolean");
      if (u->get<bool>() && (max_items == kUnbounded || max_items > 1)) {
        return Unsupported("uniqueItems", part.ptr, "only with maxItems <= 1");
      }
    }
    if (const Json* p = part.Get("prefixItems")) {
      if (!p->is_array() || p->empty()) {
        return BadValue("prefixItems", part.ptr, "a non-empty array of schemas");
      }
      prefix_len = std::max(prefix_len, p->size());
      any_prefix = true;
    }
    if (const Json* it = part.Get("items")) {
      if (!it->is_object() && !it->is_boolean()) {
        return BadValue("items", part.ptr,
                        "a schema (for a tuple, use prefixItems: the array form of items is "
                        "draft 2019-09 and earlier)");
      }
      any_items = true;
    }
  }
  if (min_items > kMaxItemsUnroll) {
    return Unsupported("minItems", min_ptr,
                       "at most " + std::to_string(kMaxItemsUnroll) + " is supported");
  }
  int64_t explicit_count = std::max<int64_t>(static_cast<int64_t>(prefix_len), min_items);
  if (max_items != kUnbounded && max_items > kMaxItemsUnroll) {
    max_items = std::max(kMaxItemsUnroll, explicit_count);
  }
  if (max_items != kUnbounded) explicit_count = std::min(explicit_count, max_items);

  // Elements past every prefix: each part's items (a part without items allows anything there).
  // With prefixItems but no items anywhere, none are generated beyond the prefix (a subset)
  // unless minItems needs them.
  const Rx any_element = JsonAnyValueRx(std::max(options_.max_any_depth - 1, 0));
  Rx tail;
  bool has_tail = true;
  if (any_items) {
    Flat tf;
    for (const Part& part : flat.parts) {
      if (const Json* it = part.Get("items")) {
        SG_RETURN_IF_ERROR(Add(*it, PointerAppend(part.ptr, "items"), "items", depth + 1, &tf));
      }
    }
    SG_ASSIGN_OR_RETURN(tail, Compile(tf, "items", depth + 1));
  } else if (any_prefix) {
    tail = any_element;
    has_tail = false;
  } else {
    tail = any_element;
  }
  std::vector<Rx> elements;
  for (int64_t i = 0; i < explicit_count; ++i) {
    if (static_cast<size_t>(i) >= prefix_len) {
      elements.push_back(tail);
      continue;
    }
    Flat ef;
    for (const Part& part : flat.parts) {
      const Json* p = part.Get("prefixItems");
      if (p != nullptr && static_cast<size_t>(i) < p->size()) {
        SG_RETURN_IF_ERROR(
            Add((*p)[i], PointerAppend(PointerAppend(part.ptr, "prefixItems"), std::to_string(i)),
                "prefixItems", depth + 1, &ef));
      } else if (const Json* it = part.Get("items")) {
        SG_RETURN_IF_ERROR(Add(*it, PointerAppend(part.ptr, "items"), "items", depth + 1, &ef));
      }
    }
    SG_ASSIGN_OR_RETURN(Rx e, Compile(ef, "prefixItems", depth + 1));
    elements.push_back(std::move(e));
  }

  // Built from the end so that each optional element nests the ones after it: linear size.
  Rx rest = RxEmpty();
  if (has_tail && (max_items == kUnbounded || max_items > explicit_count)) {
    rest = RxRepeat(
        RxConcat({Comma(), tail}), 0,
        max_items == kUnbounded ? kRxUnbounded : static_cast<int32_t>(max_items - explicit_count));
  }
  Rx body;
  if (explicit_count == 0) {
    body = (!has_tail || max_items == 0)
               ? RxNothing()
               : RxConcat({tail, RxRepeat(RxConcat({Comma(), tail}), 0,
                                          max_items == kUnbounded
                                              ? kRxUnbounded
                                              : static_cast<int32_t>(max_items - 1))});
  } else {
    for (int64_t i = explicit_count - 1; i >= 1; --i) {
      Rx item = RxConcat({Comma(), elements[i], rest});
      rest = i < min_items ? item : RxOptional(item);
    }
    body = RxConcat({elements[0], rest});
  }
  const Rx open = RxConcat({RxByte('['), JsonWhitespace()});
  Rx out = min_items == 0
               ? RxConcat({open, RxOptional(RxConcat({body, JsonWhitespace()})), RxByte(']')})
               : RxConcat({open, body, JsonWhitespace(), RxByte(']')});
  if (out->kind == RxKind::kNothing) return Empty("minItems", min_ptr.empty() ? flat.ptr : min_ptr);
  return out;
}

StatusOr<Rx> Compiler::CompileObject(const Flat& flat, int depth) {
  struct Property {
    std::string name;
    std::vector<std::pair<const Json*, std::string>> schemas;  // (schema, pointer)
    bool required = false;
    Rx rx;
  };
  std::vector<Property> props;
  std::unordered_map<std::string, size_t> index;
  auto property = [&](const std::string& name) -> Property& {
    auto [it, inserted] = index.try_emplace(name, props.size());
    if (inserted) props.push_back(Property{name, {}, false, nullptr});
    return props[it->second];
  };
  std::vector<const Part*> ap_parts;  // parts whose additionalProperties is not trivially true
  for (const Part& part : flat.parts) {
    if (const Json* p = part.Get("properties")) {
      if (!p->is_object()) return BadValue("properties", part.ptr, "an object of schemas");
      const std::string base = PointerAppend(part.ptr, "properties");
      for (auto it = p->begin(); it != p->end(); ++it) {
        property(it.key()).schemas.emplace_back(&it.value(), PointerAppend(base, it.key()));
      }
    }
    if (const Json* ap = part.Get("additionalProperties")) {
      if (!ap->is_object() && !ap->is_boolean()) {
        return BadValue("additionalProperties", part.ptr, "a schema (an object or a boolean)");
      }
      if (!(ap->is_boolean() && ap->get<bool>()) && !(ap->is_object() && ap->empty())) {
        ap_parts.push_back(&part);
      }
    }
  }
  for (const Part& part : flat.parts) {
    const Json* r = part.Get("required");
    if (r == nullptr) continue;
    if (!r->is_array()) return BadValue("required", part.ptr, "an array of strings");
    for (const Json& name : *r) {
      if (!name.is_string()) return BadValue("required", part.ptr, "an array of strings");
      property(name.get_ref<const std::string&>()).required = true;
    }
  }
  if (props.size() > static_cast<size_t>(std::max(options_.max_properties, 0))) {
    return Unsupported("properties", flat.ptr,
                       "more than " + std::to_string(options_.max_properties) + " properties");
  }
  bool has_min = false, has_max = false;
  int64_t min_props = 0, max_props = kUnbounded;
  std::string min_ptr, max_ptr;
  SG_RETURN_IF_ERROR(ReadCount(flat, "minProperties", true, &has_min, &min_props, &min_ptr));
  SG_RETURN_IF_ERROR(ReadCount(flat, "maxProperties", false, &has_max, &max_props, &max_ptr));
  if (!has_min) min_props = 0;
  if (!has_max) max_props = kUnbounded;
  // dependentRequired: trigger -> names, over all parts.
  std::vector<std::pair<std::string, std::vector<std::string>>> dependencies;
  std::string dep_ptr;
  for (const Part& part : flat.parts) {
    const Json* d = part.Get("dependentRequired");
    if (d == nullptr) continue;
    if (!d->is_object()) return BadValue("dependentRequired", part.ptr, "an object of arrays");
    for (auto it = d->begin(); it != d->end(); ++it) {
      if (!it.value().is_array()) {
        return BadValue("dependentRequired", part.ptr, "an object of arrays of strings");
      }
      std::vector<std::string> names;
      for (const Json& n : it.value()) {
        if (!n.is_string()) {
          return BadValue("dependentRequired", part.ptr, "an object of arrays of strings");
        }
        names.push_back(n.get<std::string>());
      }
      dependencies.emplace_back(it.key(), std::move(names));
      dep_ptr = part.ptr;
    }
  }

  if (props.empty()) {
    // No property is named: a map of arbitrary keys whose values meet additionalProperties.
    if (min_props > 0) {
      return Unsupported("minProperties", min_ptr,
                         "only where the required properties already guarantee it");
    }
    if (std::any_of(dependencies.begin(), dependencies.end(),
                    [](const auto& d) { return !d.second.empty(); })) {
      return Unsupported("dependentRequired", dep_ptr,
                         "only for objects whose properties are declared");
    }
    Rx value;
    if (ap_parts.empty()) {
      value = JsonAnyValueRx(std::max(options_.max_any_depth - 1, 0));
    } else {
      Flat vf;
      for (const Part* part : ap_parts) {
        SG_RETURN_IF_ERROR(Add(*part->Get("additionalProperties"),
                               PointerAppend(part->ptr, "additionalProperties"),
                               "additionalProperties", depth + 1, &vf));
      }
      SG_ASSIGN_OR_RETURN(value, Compile(vf, "additionalProperties", depth + 1));
    }
    int64_t entries = max_props == kUnbounded ? kUnbounded : std::min(max_props, kMaxMapUnroll);
    if (value->kind == RxKind::kNothing) entries = 0;
    return json_lex::JsonMapRx(
        value, entries == kUnbounded ? kRxUnbounded : static_cast<int32_t>(entries));
  }

  // Each property's value meets its schema in every part that declares it and the
  // additionalProperties of every part that does not.
  std::vector<Property> kept;
  for (Property& p : props) {
    Flat pf;
    for (const auto& [schema, ptr] : p.schemas) {
      SG_RETURN_IF_ERROR(Add(*schema, ptr, "properties", depth + 1, &pf));
    }
    for (const Part* part : ap_parts) {
      const Json* declared = part->Get("properties");
      if (declared != nullptr && declared->is_object() && declared->contains(p.name)) continue;
      SG_RETURN_IF_ERROR(Add(*part->Get("additionalProperties"),
                             PointerAppend(part->ptr, "additionalProperties"),
                             "additionalProperties", depth + 1, &pf));
    }
    SG_ASSIGN_OR_RETURN(p.rx, Compile(pf, "properties", depth + 1));
    if (p.rx->kind == RxKind::kNothing) {
      if (p.required) return RxNothing();  // Compile recorded why
      continue;                            // an optional property that cannot occur
    }
    kept.push_back(std::move(p));
  }
  // dependentRequired: a trigger that may occur makes its dependencies required; one whose
  // dependency is never generated is itself dropped (or refused when required).
  for (const auto& [trigger_name, names] : dependencies) {
    // A plain reference: clang 14 cannot capture a structured binding in a lambda.
    const std::string& trigger = trigger_name;
    auto t = std::find_if(kept.begin(), kept.end(),
                          [&](const Property& p) { return p.name == trigger; });
    if (t == kept.end()) continue;
    bool all_generated = true;
    for (const std::string& n : names) {
      all_generated = all_generated && std::any_of(kept.begin(), kept.end(),
                                                   [&](const Property& p) { return p.name == n; });
    }
    if (!all_generated) {
      if (t->required) {
        return Unsupported("dependentRequired", dep_ptr,
                           "a required property depends on one that is never generated");
      }
      kept.erase(t);
      continue;
    }
    for (Property& p : kept) {
      if (std::find(names.begin(), names.end(), p.name) != names.end()) p.required = true;
    }
  }
  const int64_t required_count =
      std::count_if(kept.begin(), kept.end(), [](const Property& p) { return p.required; });
  if (min_props > required_count) {
    return Unsupported("minProperties", min_ptr,
                       "only where the required properties already guarantee it");
  }
  if (max_props != kUnbounded) {
    if (required_count > max_props) return Empty("maxProperties", max_ptr);
    // Keep the first optional properties that fit.
    int64_t room = max_props - required_count;
    std::erase_if(kept, [&](const Property& p) { return !p.required && room-- <= 0; });
  }

  // Members in order. tails[i]: members i.. once one has been written (each optional member is
  // one optional group: linear). The first member written is one of the optional members before
  // the first required one, or that required one: quadratic only in that leading run.
  const size_t m = kept.size();
  std::vector<Rx> members(m);
  for (size_t i = 0; i < m; ++i) {
    std::string key;
    if (!DumpJson(Json(kept[i].name), &key)) {
      return BadValue("properties", flat.ptr, "keyed by valid UTF-8 names");
    }
    members[i] = RxConcat({RxLiteral(key), RxByte(':'), JsonWhitespace(), kept[i].rx});
  }
  std::vector<Rx> tails(m + 1, RxEmpty());
  for (size_t i = m; i-- > 0;) {
    Rx c = RxConcat({Comma(), members[i]});
    tails[i] = RxConcat({kept[i].required ? c : RxOptional(c), tails[i + 1]});
  }
  Rx head = RxNothing();
  for (size_t i = m; i-- > 0;) {
    Rx first = RxConcat({members[i], tails[i + 1]});
    head = kept[i].required ? first : RxAlt({first, head});
  }
  const Rx open = RxConcat({RxByte('{'), JsonWhitespace()});
  if (required_count == 0) {
    return RxConcat({open, RxOptional(RxConcat({head, JsonWhitespace()})), RxByte('}')});
  }
  return RxConcat({open, head, JsonWhitespace(), RxByte('}')});
}

}  // namespace sg::json_schema_internal
