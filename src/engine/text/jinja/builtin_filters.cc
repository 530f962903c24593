// Jinja2's built-in filters (and transformers' tojson), with Jinja2 3.1's semantics: which ones
// return generators (map, select, reject, selectattr, rejectattr, unique, items, reverse), what
// they do with Undefined, and the errors they raise.
#include <algorithm>
#include <cerrno>
#include <cfenv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "engine/text/jinja/builtins.h"
#include "engine/text/jinja/evaluator.h"
#include "engine/text/jinja/json_convert.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/py_format.h"
#include "engine/text/jinja/py_string.h"
#include "engine/text/utf8.h"

namespace sg::jinja {
namespace {

bool Absent(const Value& v) { return v.is_undefined() || v.is_none(); }

// Jinja's soft_str: str(), but Undefined raises nothing and prints "". Bounded by the default
// repr limit; results are size-checked by StrResult.
std::string SoftStr(const Value& v) { return v.ToStr(); }

StatusOr<Value> StrResult(Evaluator& ev, std::string s) {
  SG_RETURN_IF_ERROR(ev.ChargeBytes(s.size()));
  return Value::Str(std::move(s));
}

// Attribute paths as Jinja's make_attrgetter reads them: "a.b.0".
StatusOr<Value> GetPath(const Value& item, const Value& attribute) {
  if (attribute.is_int()) return GetItem(item, attribute);
  std::string path = attribute.ToStr();
  Value cur = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && part.size() < 18;
    for (char c : part) digits = digits && c >= '0' && c <= '9';
    SG_ASSIGN_OR_RETURN(
        cur, GetItem(cur, digits ? Value::Int(std::atoll(part.c_str())) : Value::Str(part)));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

// Case folding for comparisons (Jinja's ignore_case).
Value Fold(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::Str(py::Lower(v.str()));
  return v;
}

// ---- string filters ----

StatusOr<Value> FUpper(Evaluator& ev, const Value& v, CallArgs&) {
  return StrResult(ev, py::Upper(SoftStr(v)));
}
StatusOr<Value> FLower(Evaluator& ev, const Value& v, CallArgs&) {
  return StrResult(ev, py::Lower(SoftStr(v)));
}
StatusOr<Value> FTitle(Evaluator& ev, const Value& v, CallArgs&) {
  return StrResult(ev, py::Title(SoftStr(v)));
}
StatusOr<Value> FCapitalize(Evaluator& ev, const Value& v, CallArgs&) {
  return StrResult(ev, py::Capitalize(SoftStr(v)));
}

StatusOr<Value> FTrim(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value chars = args.Take(0, "chars");
  std::optional<std::string_view> set;
  if (chars.is_string()) set = chars.str();
  const std::string s = SoftStr(v);
  return StrResult(ev, std::string(py::Strip(s, set, true, true)));
}

StatusOr<Value> FString(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_string()) return v;
  return StrResult(ev, SoftStr(v));
}

StatusOr<Value> FReplace(Evaluator& ev, const Value& v, CallArgs& args) {
  const std::string s = SoftStr(v);
  const std::string old = SoftStr(args.Take(0, "old"));
  const std::string repl = SoftStr(args.Take(1, "new"));
  const Value count_v = args.Take(2, "count");
  const int64_t count = count_v.is_int() ? count_v.int_value() : -1;
  const size_t n = old.empty() ? py::Length(s) + 1 : s.size() / old.size();
  if (repl.size() > old.size() && n * (repl.size() - old.size()) + s.size() > ev.max_bytes()) {
    return ResourceExhaustedError("replace result exceeds the output limit");
  }
  return StrResult(ev, py::Replace(s, old, repl, count));
}

StatusOr<Value> FEscape(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_markup()) return v;
  std::string out = HtmlEscape(SoftStr(v));
  SG_RETURN_IF_ERROR(ev.ChargeBytes(out.size()));
  return Value::Markup(std::move(out));
}

StatusOr<Value> FSafe(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_markup()) return v;
  std::string s = SoftStr(v);
  SG_RETURN_IF_ERROR(ev.ChargeBytes(s.size()));
  return Value::Markup(std::move(s));
}

StatusOr<Value> FIndent(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value width = args.Take(0, "width");
  const bool first = args.Take(1, "first").Truthy();
  const bool blank = args.Take(2, "blank").Truthy();
  std::string indention;
  if (width.is_string()) {
    indention = width.str();
  } else {
    const int64_t w = width.is_undefined() ? 4 : (width.is_number() ? width.int_value() : 4);
    if (w > 1024) return ResourceExhaustedError("indent width too large");
    indention.assign(static_cast<size_t>(std::max<int64_t>(0, w)), ' ');
  }
  std::string s = SoftStr(v) + "\n";
  std::vector<std::string> lines = py::SplitLines(s);
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) {
      rv += "\n";
      if (!lines[i].empty()) rv += indention;
      rv += lines[i];
      if (rv.size() > ev.max_bytes()) return ResourceExhaustedError("indent result too large");
    }
  }
  if (first) rv = indention + rv;
  return StrResult(ev, std::move(rv));
}

StatusOr<Value> FWordcount(Evaluator& ev, const Value& v, CallArgs&) {
  const std::string s = SoftStr(v);
  int64_t n = 0;
  bool in_word = false;
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    const bool w = cp == '_' ||
                   (cp < 0x80 ? std::isalnum(static_cast<int>(cp)) != 0 : utf8::IsAlphanumeric(cp));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::Int(n);
}

StatusOr<Value> FCenter(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value w = args.Take(0, "width");
  const int64_t width = w.is_int() ? w.int_value() : 80;
  if (width > (1 << 20)) return ResourceExhaustedError("center width too large");
  const std::string s = SoftStr(v);
  const int64_t len = static_cast<int64_t>(py::Length(s));
  if (width <= len) return Value::Str(s);
  const int64_t pad = width - len;
  const int64_t left = pad / 2 + (pad & width & 1);
  return Value::Str(std::string(static_cast<size_t>(left), ' ') + s +
                    std::string(static_cast<size_t>(pad - left), ' '));
}

StatusOr<Value> FFormat(Evaluator& ev, const Value& v, CallArgs& args) {
  Value a;
  if (!args.pos.empty()) {
    a = Value::MakeTuple(args.pos);
  } else {
    Dict d;
    for (auto& [k, x] : args.kw) d.Set(Value::Str(k), x);
    a = Value::MakeDict(std::move(d));
  }
  SG_ASSIGN_OR_RETURN(std::string s, PercentFormat(SoftStr(v), a));
  return StrResult(ev, std::move(s));
}

// ---- sequences ----

StatusOr<Value> FLength(Evaluator& ev, const Value& v, CallArgs&) {
  SG_ASSIGN_OR_RETURN(int64_t n, Length(v));
  return Value::Int(n);
}

StatusOr<Value> FFirst(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_generator()) {
    Generator& g = v.generator();
    if (g.pos < g.items.size()) return g.items[g.pos++];
    return Value::Undefined("No first item, sequence was empty.");
  }
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items[0];
}

StatusOr<Value> FLast(Evaluator& ev, const Value& v, CallArgs&) {
  if (!v.is_string() && !v.is_sequence_like() && !v.is_dict() && !v.is_undefined()) {
    return PyError("TypeError", Quoted(v.TypeName()) + " object is not reversible");
  }
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

StatusOr<Value> FList(Evaluator& ev, const Value& v, CallArgs&) {
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  return Value::MakeList(std::move(items));
}

StatusOr<Value> FJoin(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value sep_v = args.Take(0, "d");
  const std::string sep = sep_v.is_undefined() ? "" : SoftStr(sep_v);
  const Value attribute = args.Take(1, "attribute");
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    Value item = items[i];
    if (!attribute.is_undefined() && !attribute.is_none()) {
      SG_ASSIGN_OR_RETURN(item, GetPath(item, attribute));
    }
    if (i) out += sep;
    out += SoftStr(item);
    if (out.size() > ev.max_bytes()) return ResourceExhaustedError("join result too large");
  }
  return StrResult(ev, std::move(out));
}

StatusOr<Value> FReverse(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_string()) {
    const std::vector<size_t> offs = py::CodePointOffsets(v.str());
    std::string out;
    for (size_t i = offs.size() - 1; i > 0; --i)
      out.append(v.str(), offs[i - 1], offs[i] - offs[i - 1]);
    return Value::Str(std::move(out));
  }
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  std::reverse(items.begin(), items.end());
  if (v.is_sequence_like() || v.is_dict()) return Value::MakeGenerator(std::move(items));
  return Value::MakeList(std::move(items));
}

StatusOr<Value> FItems(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_undefined()) return Value::MakeGenerator({});
  if (!v.is_dict()) return PyError("TypeError", "Can only get item pairs from a mapping.");
  List out;
  for (const auto& [k, x] : v.dict().items()) out.push_back(Value::MakeTuple({k, x}));
  return Value::MakeGenerator(std::move(out));
}

StatusOr<Value> FDictsort(Evaluator& ev, const Value& v, CallArgs& args) {
  const bool case_sensitive = args.Take(0, "case_sensitive").Truthy();
  const Value by = args.Take(1, "by");
  const bool reverse = args.Take(2, "reverse").Truthy();
  if (!v.is_dict()) {
    return PyError("UndefinedError", Quoted(v.ObjectTypeRepr()) + " has no attribute 'items'");
  }
  int pos = 0;
  if (by.is_string()) {
    if (by.str() == "value") {
      pos = 1;
    } else if (by.str() != "key") {
      return PyError("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
    }
  }
  List items;
  for (const auto& [k, x] : v.dict().items()) items.push_back(Value::MakeTuple({k, x}));
  Status err;
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    StatusOr<bool> lt =
        LessThan(Fold(a.list()[pos], case_sensitive), Fold(b.list()[pos], case_sensitive));
    if (!lt.ok()) {
      err = lt.status();
      return false;
    }
    return *lt;
  });
  SG_RETURN_IF_ERROR(err);
  if (reverse) std::reverse(items.begin(), items.end());
  return Value::MakeList(std::move(items));
}

StatusOr<Value> FSort(Evaluator& ev, const Value& v, CallArgs& args) {
  const bool reverse = args.Take(0, "reverse").Truthy();
  const bool case_sensitive = args.Take(1, "case_sensitive").Truthy();
  const Value attribute = args.Take(2, "attribute");
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& item : items) {
    Value key = item;
    if (!Absent(attribute)) {
      SG_ASSIGN_OR_RETURN(key, GetPath(item, attribute));
    }
    keyed.emplace_back(Fold(key, case_sensitive), std::move(item));
  }
  Status err;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    StatusOr<bool> lt = reverse ? LessThan(b.first, a.first) : LessThan(a.first, b.first);
    if (!lt.ok()) {
      err = lt.status();
      return false;
    }
    return *lt;
  });
  SG_RETURN_IF_ERROR(err);
  List out;
  for (auto& [k, item] : keyed) out.push_back(std::move(item));
  return Value::MakeList(std::move(out));
}

StatusOr<Value> FUnique(Evaluator& ev, const Value& v, CallArgs& args) {
  const bool case_sensitive = args.Take(0, "case_sensitive").Truthy();
  const Value attribute = args.Take(1, "attribute");
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  List out;
  std::unordered_set<std::string> seen_hashable;
  std::vector<Value> seen_other;  // unhashable keys: compared one by one (and charged so)
  for (Value& item : items) {
    Value key = item;
    if (!Absent(attribute)) {
      SG_ASSIGN_OR_RETURN(key, GetPath(item, attribute));
    }
    key = Fold(key, case_sensitive);
    std::string hk;
    bool dup = false;
    if (key.HashKey(hk)) {
      dup = !seen_hashable.insert(std::move(hk)).second;
    } else {
      SG_RETURN_IF_ERROR(ev.Step(seen_other.size() / 8));
      for (const Value& s : seen_other) dup = dup || Equals(s, key);
      if (!dup) seen_other.push_back(key);
    }
    if (!dup) out.push_back(std::move(item));
  }
  return Value::MakeGenerator(std::move(out));
}

StatusOr<Value> MinMax(Evaluator& ev, const Value& v, CallArgs& args, bool max) {
  const bool case_sensitive = args.Take(0, "case_sensitive").Truthy();
  const Value attribute = args.Take(1, "attribute");
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  size_t best = 0;
  Value best_key;
  for (size_t i = 0; i < items.size(); ++i) {
    Value key = items[i];
    if (!Absent(attribute)) {
      SG_ASSIGN_OR_RETURN(key, GetPath(items[i], attribute));
    }
    key = Fold(key, case_sensitive);
    if (i == 0) {
      best_key = key;
      continue;
    }
    SG_ASSIGN_OR_RETURN(bool better, max ? LessThan(best_key, key) : LessThan(key, best_key));
    if (better) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}
StatusOr<Value> FMin(Evaluator& ev, const Value& v, CallArgs& args) {
  return MinMax(ev, v, args, false);
}
StatusOr<Value> FMax(Evaluator& ev, const Value& v, CallArgs& args) {
  return MinMax(ev, v, args, true);
}

StatusOr<Value> FSum(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value attribute = args.Take(0, "attribute");
  Value total = args.Take(1, "start");
  if (total.is_undefined()) total = Value::Int(0);
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  for (const Value& item : items) {
    Value x = item;
    if (!Absent(attribute)) {
      SG_ASSIGN_OR_RETURN(x, GetPath(item, attribute));
    }
    SG_ASSIGN_OR_RETURN(total, BinaryOp("+", total, x, ev.max_bytes()));
  }
  return total;
}

StatusOr<Value> FBatch(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value n_v = args.Take(0, "linecount");
  const Value fill = args.Take(1, "fill_with");
  if (!n_v.is_int() || n_v.int_value() <= 0) {
    return PyError("ValueError", "batch size must be a positive integer");
  }
  const size_t n = static_cast<size_t>(n_v.int_value());
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  List out;
  List cur;
  for (Value& item : items) {
    cur.push_back(std::move(item));
    if (cur.size() == n) {
      out.push_back(Value::MakeList(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (!Absent(fill)) {
      while (cur.size() < n) cur.push_back(fill);
    }
    out.push_back(Value::MakeList(std::move(cur)));
  }
  return Value::MakeGenerator(std::move(out));
}

// ---- selection and mapping (generators) ----

StatusOr<Value> FMap(Evaluator& ev, const Value& v, CallArgs& args) {
  if (!v.Truthy()) return Value::MakeGenerator({});  // Jinja2: `if value:` before iterating
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  List out;
  out.reserve(items.size());
  bool by_attribute = args.pos.empty();
  for (const auto& [k, x] : args.kw)
    by_attribute = by_attribute && (k == "attribute" || k == "default");
  if (by_attribute) {
    const Value attribute = args.Take(99, "attribute");
    const Value def = args.Take(99, "default");
    for (const Value& item : items) {
      SG_ASSIGN_OR_RETURN(Value x, GetPath(item, attribute));
      if (x.is_undefined() && !def.is_undefined()) x = def;
      out.push_back(std::move(x));
    }
    return Value::MakeGenerator(std::move(out));
  }
  if (args.pos.empty() || !args.pos[0].is_string()) {
    return PyError("FilterArgumentError", "map requires a filter argument");
  }
  const std::string name = args.pos[0].str();
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + 1, args.pos.end());
  rest.kw = args.kw;
  for (const Value& item : items) {
    SG_ASSIGN_OR_RETURN(Value x, ev.ApplyFilter(name, item, rest));
    out.push_back(std::move(x));
  }
  return Value::MakeGenerator(std::move(out));
}

StatusOr<Value> SelectOrReject(Evaluator& ev, const Value& v, CallArgs& args, bool select,
                               bool by_attr) {
  if (!v.Truthy()) return Value::MakeGenerator({});  // Jinja2: `if value:` before iterating
  SG_ASSIGN_OR_RETURN(List items, Iterate(v));
  size_t next = 0;
  Value attribute;
  if (by_attr) {
    if (args.pos.empty()) return PyError("TypeError", "selectattr requires an attribute");
    attribute = args.pos[next++];
  }
  std::string test;
  if (next < args.pos.size()) {
    test = args.pos[next++].ToStr();
  }
  CallArgs rest;
  rest.pos.assign(args.pos.begin() + static_cast<std::ptrdiff_t>(std::min(next, args.pos.size())),
                  args.pos.end());
  rest.kw = args.kw;
  List out;
  for (Value& item : items) {
    Value x = item;
    if (by_attr) {
      SG_ASSIGN_OR_RETURN(x, GetPath(item, attribute));
    }
    bool r;
    if (test.empty()) {
      r = x.Truthy();
    } else {
      SG_ASSIGN_OR_RETURN(r, ev.ApplyTest(test, x, rest));
    }
    if (r == select) out.push_back(std::move(item));
  }
  return Value::MakeGenerator(std::move(out));
}
StatusOr<Value> FSelect(Evaluator& ev, const Value& v, CallArgs& a) {
  return SelectOrReject(ev, v, a, true, false);
}
StatusOr<Value> FReject(Evaluator& ev, const Value& v, CallArgs& a) {
  return SelectOrReject(ev, v, a, false, false);
}
StatusOr<Value> FSelectAttr(Evaluator& ev, const Value& v, CallArgs& a) {
  return SelectOrReject(ev, v, a, true, true);
}
StatusOr<Value> FRejectAttr(Evaluator& ev, const Value& v, CallArgs& a) {
  return SelectOrReject(ev, v, a, false, true);
}

// ---- values ----

StatusOr<Value> FDefault(Evaluator& ev, const Value& v, CallArgs& args) {
  Value def = args.Take(0, "default_value");
  if (def.is_undefined() && !args.Has(0, "default_value")) def = Value::Str("");
  const bool boolean = args.Take(1, "boolean").Truthy();
  if (v.is_undefined() || (boolean && !v.Truthy())) return def;
  return v;
}

StatusOr<Value> FAttr(Evaluator& ev, const Value& v, CallArgs& args) {
  return GetAttr(v, SoftStr(args.Take(0, "name")));
}

// Python's float(str): optional whitespace, a decimal or inf/nan, optional whitespace.
bool ParseFloat(const std::string& text, double& out) {
  std::string s(py::Strip(text, std::nullopt, true, true));
  s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
  if (s.empty()) return false;
  if (s.find_first_of("xXpP") != std::string::npos) return false;
  errno = 0;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

StatusOr<Value> FInt(Evaluator& ev, const Value& v, CallArgs& args) {
  Value def = args.Take(0, "default");
  if (def.is_undefined()) def = Value::Int(0);
  const Value base_v = args.Take(1, "base");
  const int base = base_v.is_int() ? static_cast<int>(base_v.int_value()) : 10;
  if (v.is_undefined()) return UndefinedUse(v);
  if (v.is_int() || v.is_bool()) return Value::Int(v.int_value());
  if (v.is_float()) {
    if (!std::isfinite(v.float_value()) || std::fabs(v.float_value()) > 9.2e18) return def;
    return Value::Int(static_cast<int64_t>(v.float_value()));
  }
  if (v.is_string()) {
    std::string s(py::Strip(v.str(), std::nullopt, true, true));
    s.erase(std::remove(s.begin(), s.end(), '_'), s.end());
    if (!s.empty() && base >= 2 && base <= 36) {
      errno = 0;
      char* end = nullptr;
      const long long i = std::strtoll(s.c_str(), &end, base);
      if (errno == 0 && end == s.c_str() + s.size()) return Value::Int(i);
    }
    double d;
    if (ParseFloat(v.str(), d) && std::isfinite(d) && std::fabs(d) < 9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return def;
}

StatusOr<Value> FFloat(Evaluator& ev, const Value& v, CallArgs& args) {
  Value def = args.Take(0, "default");
  if (def.is_undefined()) def = Value::Float(0.0);
  if (v.is_undefined()) return UndefinedUse(v);
  if (v.is_number()) return Value::Float(v.AsDouble());
  double d;
  if (v.is_string() && ParseFloat(v.str(), d)) return Value::Float(d);
  return def;
}

StatusOr<Value> FAbs(Evaluator& ev, const Value& v, CallArgs&) {
  if (v.is_float()) return Value::Float(std::fabs(v.float_value()));
  if (v.is_int() || v.is_bool()) {
    if (v.int_value() == INT64_MIN) return PyError("OverflowError", "integer result too large");
    return Value::Int(v.int_value() < 0 ? -v.int_value() : v.int_value());
  }
  if (v.is_undefined()) return UndefinedUse(v);
  return PyError("TypeError", "bad operand type for abs(): '" + v.TypeName() + "'");
}

StatusOr<Value> FRound(Evaluator& ev, const Value& v, CallArgs& args) {
  const Value p = args.Take(0, "precision");
  const int64_t precision = p.is_int() ? p.int_value() : 0;
  const std::string method = args.Has(1, "method") ? args.Take(1, "method").ToStr() : "common";
  if (v.is_undefined()) return UndefinedUse(v);
  if (!v.is_number()) {
    return PyError("TypeError", "type " + v.TypeName() + " doesn't define __round__ method");
  }
  if (method != "common" && method != "ceil" && method != "floor") {
    return PyError("FilterArgumentError", "method must be common, ceil or floor");
  }
  if (method == "common" && !v.is_float()) return Value::Int(v.int_value());
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double x = v.AsDouble() * scale;
  double r;
  if (method == "ceil") {
    r = std::ceil(x);
  } else if (method == "floor") {
    r = std::floor(x);
  } else {
    r = std::nearbyint(x);  // ties to even, as Python's round()
  }
  return Value::Float(r / scale);
}

StatusOr<Value> FToJson(Evaluator& ev, const Value& v, CallArgs& args) {
  JsonDumpOptions o;
  o.ensure_ascii = args.Take(1, "ensure_ascii").Truthy();
  const Value indent = args.Take(0, "indent");
  const Value separators = args.Take(2, "separators");
  o.sort_keys = args.Take(3, "sort_keys").Truthy();
  if (indent.is_int()) {
    if (indent.int_value() > 64) return ResourceExhaustedError("tojson indent too large");
    o.indent = std::string(static_cast<size_t>(std::max<int64_t>(0, indent.int_value())), ' ');
  } else if (indent.is_string()) {
    o.indent = indent.str();
  }
  if (o.indent) o.item_separator = ",";
  if (separators.is_sequence_like() && separators.list().size() == 2 &&
      separators.list()[0].is_string() && separators.list()[1].is_string()) {
    o.item_separator = separators.list()[0].str();
    o.key_separator = separators.list()[1].str();
  }
  SG_ASSIGN_OR_RETURN(std::string s, JsonDumps(v, o, ev.max_bytes()));
  return StrResult(ev, std::move(s));
}

const std::unordered_map<std::string_view, FilterFn>& Filters() {
  static const auto* kFilters = new std::unordered_map<std::string_view, FilterFn>{
      {"abs", FAbs},
      {"attr", FAttr},
      {"batch", FBatch},
      {"capitalize", FCapitalize},
      {"center", FCenter},
      {"count", FLength},
      {"d", FDefault},
      {"default", FDefault},
      {"dictsort", FDictsort},
      {"e", FEscape},
      {"escape", FEscape},
      {"first", FFirst},
      {"float", FFloat},
      {"format", FFormat},
      {"indent", FIndent},
      {"int", FInt},
      {"items", FItems},
      {"join", FJoin},
      {"last", FLast},
      {"length", FLength},
      {"list", FList},
      {"lower", FLower},
      {"map", FMap},
      {"max", FMax},
      {"min", FMin},
      {"reject", FReject},
      {"rejectattr", FRejectAttr},
      {"replace", FReplace},
      {"reverse", FReverse},
      {"round", FRound},
      {"safe", FSafe},
      {"select", FSelect},
      {"selectattr", FSelectAttr},
      {"sort", FSort},
      {"string", FString},
      {"sum", FSum},
      {"title", FTitle},
      {"tojson", FToJson},
      {"trim", FTrim},
      {"unique", FUnique},
      {"upper", FUpper},
      {"wordcount", FWordcount},
  };
  return *kFilters;
}

}  // namespace

FilterFn FindFilter(std::string_view name) {
  const auto& f = Filters();
  auto it = f.find(name);
  return it == f.end() ? nullptr : it->second;
}

}  // namespace sg::jinja
