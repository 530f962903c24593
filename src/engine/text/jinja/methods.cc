#include "engine/text/jinja/methods.h"

#include <optional>

#include "engine/text/jinja/evaluator.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/py_format.h"
#include "engine/text/jinja/py_string.h"
#include "engine/text/utf8.h"

namespace sg::jinja {
namespace {

using Method = StatusOr<Value> (*)(Evaluator& ev, const Value& self, CallArgs& args);

Status ArgType(const char* method, const char* want, const Value& got) {
  return PyError("TypeError",
                 std::string(method) + " arg must be " + want + ", not " + got.TypeName());
}

// An optional str argument (None or absent -> unset).
StatusOr<std::optional<std::string_view>> OptStr(const char* method, const Value& v) {
  if (v.is_undefined() || v.is_none()) return std::optional<std::string_view>();
  if (!v.is_string()) return ArgType(method, "None or str", v);
  return std::optional<std::string_view>(v.str());
}

StatusOr<int64_t> OptInt(const Value& v, int64_t def) {
  if (v.is_undefined() || v.is_none()) return def;
  if (!v.is_int() && !v.is_bool()) {
    return PyError("TypeError",
                   Quoted(v.TypeName()) + " object cannot be interpreted as an integer");
  }
  return v.int_value();
}

Value StrList(std::vector<std::string> parts) {
  List out;
  out.reserve(parts.size());
  for (std::string& p : parts) out.push_back(Value::Str(std::move(p)));
  return Value::MakeList(std::move(out));
}

// Code-point index of byte offset AT in S (-1 stays -1).
int64_t CpIndex(const std::string& s, size_t at) {
  if (at == std::string::npos) return -1;
  return static_cast<int64_t>(py::Length(std::string_view(s).substr(0, at)));
}

// s[start:end] bounds of the optional start/end arguments, as byte offsets.
StatusOr<std::pair<size_t, size_t>> Range(const std::string& s, const Value& start,
                                          const Value& end) {
  if ((start.is_undefined() || start.is_none()) && (end.is_undefined() || end.is_none())) {
    return std::pair<size_t, size_t>(0, s.size());
  }
  const std::vector<size_t> offs = py::CodePointOffsets(s);
  const int64_t n = static_cast<int64_t>(offs.size()) - 1;
  SG_ASSIGN_OR_RETURN(int64_t b, OptInt(start, 0));
  SG_ASSIGN_OR_RETURN(int64_t e, OptInt(end, n));
  if (b < 0) b = std::max<int64_t>(0, b + n);
  if (e < 0) e = std::max<int64_t>(0, e + n);
  b = std::min(b, n);
  e = std::min(e, n);
  if (e < b) e = b;
  return std::pair<size_t, size_t>(offs[static_cast<size_t>(b)], offs[static_cast<size_t>(e)]);
}

StatusOr<Value> Strip(const Value& self, CallArgs& args, bool left, bool right, const char* name) {
  SG_ASSIGN_OR_RETURN(auto chars, OptStr(name, args.Take(0, "chars")));
  return Value::Str(std::string(py::Strip(self.str(), chars, left, right)));
}

StatusOr<Value> AffixTest(const Value& self, CallArgs& args, bool prefix) {
  const Value what = args.Take(0, "prefix");
  SG_ASSIGN_OR_RETURN(auto range, Range(self.str(), args.Take(1, "start"), args.Take(2, "end")));
  const std::string_view s =
      std::string_view(self.str()).substr(range.first, range.second - range.first);
  auto test = [&](const Value& v) -> StatusOr<bool> {
    if (!v.is_string()) {
      return PyError("TypeError", std::string(prefix ? "startswith" : "endswith") +
                                      " first arg must be str or a tuple of str, not " +
                                      v.TypeName());
    }
    const std::string& a = v.str();
    if (a.size() > s.size()) return false;
    return prefix ? s.substr(0, a.size()) == a : s.substr(s.size() - a.size()) == a;
  };
  if (what.is_tuple()) {
    for (const Value& v : what.list()) {
      SG_ASSIGN_OR_RETURN(bool r, test(v));
      if (r) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  SG_ASSIGN_OR_RETURN(bool r, test(what));
  return Value::Bool(r);
}

StatusOr<Value> Find(const Value& self, CallArgs& args, bool reverse, bool raise) {
  const Value sub = args.Take(0, "sub");
  if (!sub.is_string()) return ArgType("find", "str", sub);
  SG_ASSIGN_OR_RETURN(auto range, Range(self.str(), args.Take(1, "start"), args.Take(2, "end")));
  const std::string_view s(self.str());
  const std::string_view hay = s.substr(range.first, range.second - range.first);
  size_t at = reverse ? hay.rfind(sub.str()) : hay.find(sub.str());
  if (at == std::string_view::npos) {
    if (raise) return PyError("ValueError", "substring not found");
    return Value::Int(-1);
  }
  return Value::Int(CpIndex(self.str(), range.first + at));
}

template <typename Pred>
Value AllCodePoints(const std::string& s, Pred pred) {
  if (s.empty()) return Value::Bool(false);
  size_t i = 0;
  while (i < s.size()) {
    if (!pred(utf8::Next(s, i))) return Value::Bool(false);
  }
  return Value::Bool(true);
}

StatusOr<Value> Pad(const Value& self, CallArgs& args, char how) {
  SG_ASSIGN_OR_RETURN(int64_t width, OptInt(args.Take(0, "width"), 0));
  Value fill = args.Take(1, "fillchar");
  std::string f = fill.is_string() ? fill.str() : " ";
  const int64_t len = static_cast<int64_t>(py::Length(self.str()));
  if (width <= len) return self;
  if (width > (1 << 20)) return ResourceExhaustedError("padding width too large");
  const int64_t pad = width - len;
  auto rep = [&](int64_t n) {
    std::string out;
    for (int64_t k = 0; k < n; ++k) out += f;
    return out;
  };
  if (how == '<') return Value::Str(self.str() + rep(pad));
  if (how == '>') return Value::Str(rep(pad) + self.str());
  // Python's center: the extra pad goes left when the width is odd and len is even... as CPython.
  const int64_t left = pad / 2 + (pad & width & 1);
  return Value::Str(rep(left) + self.str() + rep(pad - left));
}

StatusOr<Value> StrMethod(std::string_view name, Evaluator& ev, const Value& self, CallArgs& args) {
  const std::string& s = self.str();
  if (name == "strip") return Strip(self, args, true, true, "strip");
  if (name == "lstrip") return Strip(self, args, true, false, "lstrip");
  if (name == "rstrip") return Strip(self, args, false, true, "rstrip");
  if (name == "split" || name == "rsplit") {
    SG_ASSIGN_OR_RETURN(auto sep,
                        OptStr(name == "split" ? "split" : "rsplit", args.Take(0, "sep")));
    if (sep && sep->empty()) return PyError("ValueError", "empty separator");
    SG_ASSIGN_OR_RETURN(int64_t maxsplit, OptInt(args.Take(1, "maxsplit"), -1));
    return StrList(name == "split" ? py::Split(s, sep, maxsplit) : py::RSplit(s, sep, maxsplit));
  }
  if (name == "splitlines") return StrList(py::SplitLines(s));
  if (name == "startswith") return AffixTest(self, args, true);
  if (name == "endswith") return AffixTest(self, args, false);
  if (name == "replace") {
    const Value old = args.Take(0, "old");
    const Value repl = args.Take(1, "new");
    if (!old.is_string()) return ArgType("replace", "str", old);
    if (!repl.is_string()) return ArgType("replace", "str", repl);
    SG_ASSIGN_OR_RETURN(int64_t count, OptInt(args.Take(2, "count"), -1));
    // Bound the result before building it.
    const size_t n = old.str().empty() ? py::Length(s) + 1 : s.size() / old.str().size();
    if (repl.str().size() > old.str().size() &&
        n * (repl.str().size() - old.str().size()) + s.size() > ev.max_bytes()) {
      return ResourceExhaustedError("str.replace result exceeds the output limit");
    }
    std::string out = py::Replace(s, old.str(), repl.str(), count);
    SG_RETURN_IF_ERROR(ev.ChargeBytes(out.size()));
    return Value::Str(std::move(out));
  }
  if (name == "format") {
    SG_ASSIGN_OR_RETURN(std::string out, StrFormat(s, args));
    SG_RETURN_IF_ERROR(ev.ChargeBytes(out.size()));
    return Value::Str(std::move(out));
  }
  if (name == "upper") return Value::Str(py::Upper(s));
  if (name == "lower") return Value::Str(py::Lower(s));
  if (name == "title") return Value::Str(py::Title(s));
  if (name == "capitalize") return Value::Str(py::Capitalize(s));
  if (name == "find") return Find(self, args, false, false);
  if (name == "rfind") return Find(self, args, true, false);
  if (name == "index") return Find(self, args, false, true);
  if (name == "rindex") return Find(self, args, true, true);
  if (name == "count") {
    const Value sub = args.Take(0, "sub");
    if (!sub.is_string()) return ArgType("count", "str", sub);
    SG_ASSIGN_OR_RETURN(auto range, Range(s, args.Take(1, "start"), args.Take(2, "end")));
    const std::string_view hay =
        std::string_view(s).substr(range.first, range.second - range.first);
    if (sub.str().empty()) return Value::Int(static_cast<int64_t>(py::Length(hay)) + 1);
    int64_t n = 0;
    for (size_t at = hay.find(sub.str()); at != std::string_view::npos;
         at = hay.find(sub.str(), at + sub.str().size())) {
      ++n;
    }
    return Value::Int(n);
  }
  if (name == "join") {
    SG_ASSIGN_OR_RETURN(List items, Iterate(args.Take(0, "iterable")));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        return PyError("TypeError", "sequence item " + std::to_string(i) +
                                        ": expected str instance, " + items[i].TypeName() +
                                        " found");
      }
      if (i) out += s;
      out += items[i].str();
      if (out.size() > ev.max_bytes()) return ResourceExhaustedError("str.join result too large");
    }
    SG_RETURN_IF_ERROR(ev.ChargeBytes(out.size()));
    return Value::Str(std::move(out));
  }
  if (name == "isspace") {
    return AllCodePoints(s, [](uint32_t c) { return py::IsSpace(c); });
  }
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
    return AllCodePoints(s, [](uint32_t c) { return c >= '0' && c <= '9'; });
  }
  if (name == "isalpha") {
    return AllCodePoints(s, [](uint32_t c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
    });
  }
  if (name == "isalnum") {
    return AllCodePoints(s, [](uint32_t c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c >= 0x80;
    });
  }
  if (name == "islower") return Value::Bool(py::IsLower(s));
  if (name == "isupper") return Value::Bool(py::IsUpper(s));
  if (name == "ljust") return Pad(self, args, '<');
  if (name == "rjust") return Pad(self, args, '>');
  if (name == "center") return Pad(self, args, '^');
  if (name == "removeprefix" || name == "removesuffix") {
    const Value a = args.Take(0, "prefix");
    if (!a.is_string())
      return ArgType(name == "removeprefix" ? "removeprefix" : "removesuffix", "str", a);
    const std::string& x = a.str();
    if (name == "removeprefix") {
      if (s.compare(0, x.size(), x) == 0) return Value::Str(s.substr(x.size()));
    } else if (x.size() <= s.size() && s.compare(s.size() - x.size(), x.size(), x) == 0) {
      return Value::Str(s.substr(0, s.size() - x.size()));
    }
    return self;
  }
  if (name == "partition" || name == "rpartition") {
    const Value sep = args.Take(0, "sep");
    if (!sep.is_string()) return ArgType("partition", "str", sep);
    if (sep.str().empty()) return PyError("ValueError", "empty separator");
    const size_t at = name == "partition" ? s.find(sep.str()) : s.rfind(sep.str());
    if (at == std::string::npos) {
      return name == "partition" ? Value::MakeTuple({self, Value::Str(""), Value::Str("")})
                                 : Value::MakeTuple({Value::Str(""), Value::Str(""), self});
    }
    return Value::MakeTuple(
        {Value::Str(s.substr(0, at)), sep, Value::Str(s.substr(at + sep.str().size()))});
  }
  return PyError("TemplateRuntimeError", "unknown str method");
}

constexpr std::string_view kStrMethods[] = {
    "strip",      "lstrip",       "rstrip",       "split",     "rsplit",    "splitlines",
    "startswith", "endswith",     "replace",      "format",    "upper",     "lower",
    "title",      "capitalize",   "find",         "rfind",     "index",     "rindex",
    "count",      "join",         "isspace",      "isdigit",   "isnumeric", "isdecimal",
    "isalpha",    "isalnum",      "islower",      "isupper",   "ljust",     "rjust",
    "center",     "removeprefix", "removesuffix", "partition", "rpartition"};

constexpr std::string_view kDictUnsafe[] = {"pop", "popitem", "setdefault", "update", "clear"};
constexpr std::string_view kListUnsafe[] = {"append", "extend",  "insert", "pop",
                                            "remove", "reverse", "sort",   "clear"};

template <size_t N>
bool In(std::string_view name, const std::string_view (&set)[N]) {
  for (std::string_view s : set) {
    if (s == name) return true;
  }
  return false;
}

Value Unsafe(const Value& obj, std::string_view name) {
  return Value::Undefined("access to attribute '" + std::string(name) + "' of '" + obj.TypeName() +
                              "' object is unsafe.",
                          /*security=*/true);
}

StatusOr<Value> DictMethod(std::string_view name, const Value& self, CallArgs& args) {
  const Dict& d = self.dict();
  if (name == "get") {
    const Value key = args.Take(0, "key");
    Value def = args.Take(1, "default");
    std::string hk;
    if (!key.HashKey(hk)) return PyError("TypeError", "unhashable type: '" + key.TypeName() + "'");
    if (const Value* v = d.Find(key)) return *v;
    return def.is_undefined() && !args.Has(1, "default") ? Value::None() : def;
  }
  List out;
  out.reserve(d.size());
  for (const auto& [k, v] : d.items()) {
    if (name == "keys") {
      out.push_back(k);
    } else if (name == "values") {
      out.push_back(v);
    } else {
      out.push_back(Value::MakeTuple({k, v}));
    }
  }
  if (name == "copy") {
    Dict copy = d;
    return Value::MakeDict(std::move(copy));
  }
  return Value::MakeList(std::move(out));
}

StatusOr<Value> ListMethod(std::string_view name, const Value& self, CallArgs& args) {
  const List& l = self.list();
  if (name == "copy") return Value::MakeList(l);
  const Value x = args.Take(0, "value");
  if (name == "count") {
    int64_t n = 0;
    for (const Value& v : l) n += Equals(v, x);
    return Value::Int(n);
  }
  for (size_t i = 0; i < l.size(); ++i) {
    if (Equals(l[i], x)) return Value::Int(static_cast<int64_t>(i));
  }
  return PyError("ValueError", x.Repr() + " is not in list");
}

}  // namespace

std::optional<Value> FindMethod(const Value& obj, std::string_view name) {
  if (obj.is_string()) {
    if (!In(name, kStrMethods)) return std::nullopt;
    std::string n(name);
    return Value::MakeFunction(
        n, [n, obj](Evaluator& ev, CallArgs& args) { return StrMethod(n, ev, obj, args); }, false,
        WorkUnits(obj), obj.depth() + 1);
  }
  if (obj.is_dict()) {
    if (In(name, kDictUnsafe)) return Unsafe(obj, name);
    if (name != "get" && name != "keys" && name != "values" && name != "items" && name != "copy") {
      return std::nullopt;
    }
    std::string n(name);
    return Value::MakeFunction(
        n, [n, obj](Evaluator&, CallArgs& args) { return DictMethod(n, obj, args); }, false,
        WorkUnits(obj), obj.depth() + 1);
  }
  if (obj.is_sequence_like()) {
    if (obj.is_list() && In(name, kListUnsafe)) return Unsafe(obj, name);
    if (name != "index" && name != "count" && !(obj.is_list() && name == "copy")) {
      return std::nullopt;
    }
    std::string n(name);
    return Value::MakeFunction(
        n, [n, obj](Evaluator&, CallArgs& args) { return ListMethod(n, obj, args); }, false,
        WorkUnits(obj), obj.depth() + 1);
  }
  return std::nullopt;
}

}  // namespace sg::jinja
