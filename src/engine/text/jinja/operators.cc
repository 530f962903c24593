#include "engine/text/jinja/operators.h"

#include <cmath>
#include <limits>

#include "engine/text/jinja/methods.h"
#include "engine/text/jinja/py_format.h"
#include "engine/text/jinja/py_string.h"

namespace sg::jinja {
namespace {

Status Unsupported(std::string_view op, const Value& a, const Value& b) {
  return PyError("TypeError", "unsupported operand type(s) for " + std::string(op) + ": '" +
                                  a.TypeName() + "' and '" + b.TypeName() + "'");
}

Status Overflow() { return PyError("OverflowError", "integer result too large"); }

Status TooBig(size_t max_bytes) {
  return ResourceExhaustedError("the template built a value larger than the output limit (" +
                                std::to_string(max_bytes) + " bytes)");
}

bool IsIntLike(const Value& v) { return v.is_int() || v.is_bool(); }

// Python's floor division and modulo on int64.
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
int64_t FloorMod(int64_t a, int64_t b) {
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

StatusOr<Value> Repeat(const Value& seq, int64_t n, size_t max_bytes) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const std::string& s = seq.str();
    if (!s.empty() && static_cast<uint64_t>(n) > max_bytes / s.size()) return TooBig(max_bytes);
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value::Str(std::move(out));
  }
  const List& l = seq.list();
  // Each element counts as at least 16 bytes against the limit.
  if (!l.empty() && static_cast<uint64_t>(n) > max_bytes / 16 / l.size()) return TooBig(max_bytes);
  List out;
  out.reserve(l.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), l.begin(), l.end());
  return seq.is_tuple() ? Value::MakeTuple(std::move(out)) : Value::MakeList(std::move(out));
}

StatusOr<Value> Power(const Value& a, const Value& b) {
  if (IsIntLike(a) && IsIntLike(b)) {
    int64_t base = a.int_value();
    int64_t exp = b.int_value();
    if (exp < 0) {
      if (base == 0) {
        return PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
      }
      return Value::Float(std::pow(static_cast<double>(base), static_cast<double>(exp)));
    }
    int64_t result = 1;
    while (exp > 0) {
      if (exp & 1) {
        if (__builtin_mul_overflow(result, base, &result)) return Overflow();
      }
      exp >>= 1;
      if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return Overflow();
    }
    return Value::Int(result);
  }
  const double x = a.AsDouble();
  const double y = b.AsDouble();
  if (x == 0 && y < 0) {
    return PyError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
  }
  const double r = std::pow(x, y);
  if (std::isnan(r) && !std::isnan(x) && !std::isnan(y)) {
    return PyError("ValueError", "math domain error (complex result)");
  }
  return Value::Float(r);
}

StatusOr<Value> Arith(std::string_view op, const Value& a, const Value& b) {
  if (IsIntLike(a) && IsIntLike(b)) {
    const int64_t x = a.int_value();
    const int64_t y = b.int_value();
    int64_t r = 0;
    if (op == "+") {
      if (__builtin_add_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    }
    if (op == "-") {
      if (__builtin_sub_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    }
    if (op == "*") {
      if (__builtin_mul_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    }
    if (op == "/") {
      if (y == 0) return PyError("ZeroDivisionError", "division by zero");
      return Value::Float(static_cast<double>(x) / static_cast<double>(y));
    }
    if (op == "//") {
      if (y == 0) return PyError("ZeroDivisionError", "integer division or modulo by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) return Overflow();
      return Value::Int(FloorDiv(x, y));
    }
    if (op == "%") {
      if (y == 0) return PyError("ZeroDivisionError", "integer modulo by zero");
      if (y == -1) return Value::Int(0);
      return Value::Int(FloorMod(x, y));
    }
    return Power(a, b);
  }
  const double x = a.AsDouble();
  const double y = b.AsDouble();
  if (op == "+") return Value::Float(x + y);
  if (op == "-") return Value::Float(x - y);
  if (op == "*") return Value::Float(x * y);
  if (op == "/") {
    if (y == 0) return PyError("ZeroDivisionError", "float division by zero");
    return Value::Float(x / y);
  }
  if (op == "//") {
    if (y == 0) return PyError("ZeroDivisionError", "float floor division by zero");
    return Value::Float(std::floor(x / y));
  }
  if (op == "%") {
    if (y == 0) return PyError("ZeroDivisionError", "float modulo");
    double m = std::fmod(x, y);
    if (m != 0 && ((m < 0) != (y < 0))) m += y;
    return Value::Float(m);
  }
  return Power(a, b);
}

// Python's slice.indices(): normalized start, stop for LENGTH and STEP.
Status SliceBound(const Value& v, int64_t len, int64_t step, bool is_start, int64_t& out) {
  if (v.is_undefined() || v.is_none()) {
    if (step > 0) {
      out = is_start ? 0 : len;
    } else {
      out = is_start ? len - 1 : -1;
    }
    return OkStatus();
  }
  if (!IsIntLike(v)) {
    return PyError("TypeError",
                   "slice indices must be integers or None or have an __index__ method");
  }
  int64_t i = v.int_value();
  if (i < 0) {
    i += len;
    if (i < 0) i = step < 0 ? -1 : 0;
  } else if (i >= len) {
    i = step < 0 ? len - 1 : len;
  }
  out = i;
  return OkStatus();
}

}  // namespace

Status UndefinedUse(const Value& undefined) {
  const UndefinedInfo* info = undefined.undefined_info();
  if (info == nullptr) return PyError("UndefinedError", "'undefined' is undefined");
  return PyError(info->security ? "SecurityError" : "UndefinedError", info->message);
}

Value MissingMember(const Value& obj, const Value& key) {
  if (key.is_string()) {
    std::string m;
    AppendStringRepr(obj.ObjectTypeRepr(), m);
    m += " has no attribute ";
    key.AppendRepr(m);
    return Value::Undefined(std::move(m));
  }
  return Value::Undefined(obj.ObjectTypeRepr() + " has no element " + key.Repr());
}

StatusOr<List> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return List{};
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return v.list();
    case Value::Kind::kDict: {
      List keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, x] : v.dict().items()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      List chars;
      const std::string& s = v.str();
      const std::vector<size_t> offs = py::CodePointOffsets(s);
      chars.reserve(offs.size() - 1);
      for (size_t i = 0; i + 1 < offs.size(); ++i) {
        chars.push_back(Value::Str(s.substr(offs[i], offs[i + 1] - offs[i])));
      }
      return chars;
    }
    case Value::Kind::kGenerator: {
      Generator& g = v.generator();
      List rest(g.items.begin() + static_cast<std::ptrdiff_t>(g.pos), g.items.end());
      g.pos = g.items.size();
      return rest;
    }
    default:
      return PyError("TypeError", Quoted(v.TypeName()) + " object is not iterable");
  }
}

StatusOr<Value> GetAttr(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) return UndefinedUse(obj);
  const Value key = Value::Str(std::string(name));
  if (!name.empty() && name[0] == '_') {
    if (obj.is_dict()) {
      if (const Value* v = obj.dict().Find(key)) return *v;
    }
    return MissingMember(obj, key);
  }
  switch (obj.kind()) {
    case Value::Kind::kNamespace:
      if (const Value* v = obj.dict().Find(key)) return *v;
      return MissingMember(obj, key);
    case Value::Kind::kLoop: {
      const LoopState& l = obj.loop();
      if (name == "index") return Value::Int(l.index0 + 1);
      if (name == "index0") return Value::Int(l.index0);
      if (name == "revindex") return Value::Int(l.length - l.index0);
      if (name == "revindex0") return Value::Int(l.length - l.index0 - 1);
      if (name == "first") return Value::Bool(l.index0 == 0);
      if (name == "last") return Value::Bool(l.index0 + 1 == l.length);
      if (name == "length") return Value::Int(l.length);
      if (name == "depth") return Value::Int(l.depth0 + 1);
      if (name == "depth0") return Value::Int(l.depth0);
      if (name == "cycle") {
        const int64_t index = l.index0;
        return Value::MakeFunction("cycle", [index](Evaluator&, CallArgs& args) -> StatusOr<Value> {
          if (args.pos.empty()) return PyError("TypeError", "no items for cycling given");
          return args.pos[static_cast<size_t>(index) % args.pos.size()];
        });
      }
      if (name == "previtem") {
        if (l.index0 == 0) return Value::Undefined("there is no previous item");
        return (*l.items)[static_cast<size_t>(l.index0 - 1)];
      }
      if (name == "nextitem") {
        if (l.index0 + 1 >= l.length) return Value::Undefined("there is no next item");
        return (*l.items)[static_cast<size_t>(l.index0 + 1)];
      }
      break;
    }
    default:
      break;
  }
  if (std::optional<Value> m = FindMethod(obj, name)) return *m;
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().Find(key)) return *v;
  }
  return MissingMember(obj, key);
}

StatusOr<Value> GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return UndefinedUse(obj);
  switch (obj.kind()) {
    case Value::Kind::kDict: {
      std::string hk;
      if (key.HashKey(hk)) {
        if (const Value* v = obj.dict().Find(key)) return *v;
      }
      break;
    }
    case Value::Kind::kList:
    case Value::Kind::kTuple:
    case Value::Kind::kString: {
      if (!IsIntLike(key)) break;
      int64_t i = key.int_value();
      if (obj.is_string()) {
        const std::string& s = obj.str();
        if (py::IsAscii(s)) {
          const int64_t n = static_cast<int64_t>(s.size());
          if (i < 0) i += n;
          if (i < 0 || i >= n) break;
          return Value::Str(s.substr(static_cast<size_t>(i), 1));
        }
        const std::vector<size_t> offs = py::CodePointOffsets(s);
        const int64_t n = static_cast<int64_t>(offs.size()) - 1;
        if (i < 0) i += n;
        if (i < 0 || i >= n) break;
        const size_t b = offs[static_cast<size_t>(i)];
        return Value::Str(s.substr(b, offs[static_cast<size_t>(i) + 1] - b));
      }
      const List& l = obj.list();
      const int64_t n = static_cast<int64_t>(l.size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) break;
      return l[static_cast<size_t>(i)];
    }
    default:
      break;
  }
  if (key.is_string()) {
    if (obj.is_dict()) {
      // A missing key falls back to the attribute (d['items'] is the method).
      if (std::optional<Value> m = FindMethod(obj, key.str())) return *m;
      return MissingMember(obj, key);
    }
    return GetAttr(obj, key.str());
  }
  return MissingMember(obj, key);
}

StatusOr<Value> GetSlice(const Value& obj, const Value& start, const Value& stop,
                         const Value& step_v) {
  if (obj.is_undefined()) return UndefinedUse(obj);
  if (!obj.is_string() && !obj.is_sequence_like()) {
    return MissingMember(obj, Value::Str("slice"));
  }
  int64_t step = 1;
  if (!step_v.is_undefined() && !step_v.is_none()) {
    if (!IsIntLike(step_v)) {
      return PyError("TypeError",
                     "slice indices must be integers or None or have an __index__ method");
    }
    step = step_v.int_value();
    if (step == 0) return PyError("ValueError", "slice step cannot be zero");
  }
  const bool ascii = obj.is_string() && py::IsAscii(obj.str());
  std::vector<size_t> offs;
  int64_t len;
  if (obj.is_string()) {
    if (ascii) {
      len = static_cast<int64_t>(obj.str().size());
    } else {
      offs = py::CodePointOffsets(obj.str());
      len = static_cast<int64_t>(offs.size()) - 1;
    }
  } else {
    len = static_cast<int64_t>(obj.list().size());
  }
  int64_t b = 0;
  int64_t e = 0;
  SG_RETURN_IF_ERROR(SliceBound(start, len, step, true, b));
  SG_RETURN_IF_ERROR(SliceBound(stop, len, step, false, e));
  if (obj.is_string()) {
    const std::string& s = obj.str();
    std::string out;
    if (step == 1) {
      if (e > b) {
        if (ascii) {
          out = s.substr(static_cast<size_t>(b), static_cast<size_t>(e - b));
        } else {
          out = s.substr(offs[static_cast<size_t>(b)],
                         offs[static_cast<size_t>(e)] - offs[static_cast<size_t>(b)]);
        }
      }
      return Value::Str(std::move(out));
    }
    for (int64_t i = b; step > 0 ? i < e : i > e; i += step) {
      if (ascii) {
        out += s[static_cast<size_t>(i)];
      } else {
        const size_t x = offs[static_cast<size_t>(i)];
        out.append(s, x, offs[static_cast<size_t>(i) + 1] - x);
      }
    }
    return Value::Str(std::move(out));
  }
  const List& l = obj.list();
  List out;
  for (int64_t i = b; step > 0 ? i < e : i > e; i += step) out.push_back(l[static_cast<size_t>(i)]);
  return obj.is_tuple() ? Value::MakeTuple(std::move(out)) : Value::MakeList(std::move(out));
}

StatusOr<Value> BinaryOp(std::string_view op, const Value& a, const Value& b, size_t max_bytes) {
  if (op == "~") {
    std::string s = a.ToStr(max_bytes + 1);
    s += b.ToStr(max_bytes + 1);
    if (s.size() > max_bytes) return TooBig(max_bytes);
    return Value::Str(std::move(s));
  }
  if (a.is_undefined()) return UndefinedUse(a);
  if (b.is_undefined()) return UndefinedUse(b);
  if (a.is_number() && b.is_number()) return Arith(op, a, b);
  if (op == "+") {
    if (a.is_string() && b.is_string()) {
      if (a.str().size() + b.str().size() > max_bytes) return TooBig(max_bytes);
      // Markup + str escapes the str (and str + Markup too, through Markup.__radd__).
      if (a.is_markup() != b.is_markup()) {
        std::string s =
            a.is_markup() ? a.str() + HtmlEscape(b.str()) : HtmlEscape(a.str()) + b.str();
        if (s.size() > max_bytes) return TooBig(max_bytes);
        return Value::Markup(std::move(s));
      }
      Value r = Value::Str(a.str() + b.str());
      return a.is_markup() ? Value::Markup(r.str()) : r;
    }
    if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
      if ((a.list().size() + b.list().size()) * 16 > max_bytes) return TooBig(max_bytes);
      List out = a.list();
      out.insert(out.end(), b.list().begin(), b.list().end());
      return a.is_tuple() ? Value::MakeTuple(std::move(out)) : Value::MakeList(std::move(out));
    }
    if (a.is_string() || a.is_list() || a.is_tuple()) {
      return PyError("TypeError", "can only concatenate " + a.TypeName() + " (not \"" +
                                      b.TypeName() + "\") to " + a.TypeName());
    }
    return Unsupported(op, a, b);
  }
  if (op == "*") {
    if ((a.is_string() || a.is_sequence_like()) && IsIntLike(b)) {
      return Repeat(a, b.int_value(), max_bytes);
    }
    if (IsIntLike(a) && (b.is_string() || b.is_sequence_like())) {
      return Repeat(b, a.int_value(), max_bytes);
    }
    if (a.is_string() || a.is_sequence_like() || b.is_string() || b.is_sequence_like()) {
      return PyError("TypeError", "can't multiply sequence by non-int of type '" +
                                      (a.is_number() ? a.TypeName() : b.TypeName()) + "'");
    }
    return Unsupported(op, a, b);
  }
  if (op == "%" && a.is_string()) {
    SG_ASSIGN_OR_RETURN(std::string s, PercentFormat(a.str(), b));
    if (s.size() > max_bytes) return TooBig(max_bytes);
    return Value::Str(std::move(s));
  }
  return Unsupported(op == "**" ? "** or pow()" : op, a, b);
}

uint64_t WorkUnits(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return v.str().size() / 64;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return v.list().size();
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return v.dict().size();
    case Value::Kind::kGenerator:
      return v.generator().items.size() - v.generator().pos;
    default:
      return 0;
  }
}

StatusOr<bool> LessThan(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) return PyError("RecursionError", "maximum recursion depth exceeded");
  if (a.is_undefined()) return UndefinedUse(a);
  if (b.is_undefined()) return UndefinedUse(b);
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.AsDouble() < b.AsDouble();
    return a.int_value() < b.int_value();
  }
  if (a.is_string() && b.is_string()) return a.str() < b.str();
  if ((a.is_list() && b.is_list()) || (a.is_tuple() && b.is_tuple())) {
    const List& x = a.list();
    const List& y = b.list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (Equals(x[i], y[i], depth + 1)) continue;
      return LessThan(x[i], y[i], depth + 1);
    }
    return x.size() < y.size();
  }
  return PyError("TypeError", "'<' not supported between instances of '" + a.TypeName() +
                                  "' and '" + b.TypeName() + "'");
}

StatusOr<bool> Compare(std::string_view op, const Value& a, const Value& b) {
  if (op == "==") return Equals(a, b);
  if (op == "!=") return !Equals(a, b);
  if (op == "in") return Contains(b, a);
  if (op == "notin") {
    SG_ASSIGN_OR_RETURN(bool in, Contains(b, a));
    return !in;
  }
  auto err = [&](StatusOr<bool> r) -> StatusOr<bool> {
    if (r.ok()) return r;
    // Python names the operator that was written.
    std::string m = r.status().message();
    const size_t at = m.find("'<'");
    if (at != std::string::npos) m.replace(at, 3, Quoted(op));
    return InvalidArgumentError(m);
  };
  if (op == "<") return err(LessThan(a, b));
  if (op == ">") return err(LessThan(b, a));
  if (op == "<=") {
    if (Equals(a, b) && !a.is_undefined()) return true;
    return err(LessThan(a, b));
  }
  if (op == ">=") {
    if (Equals(a, b) && !a.is_undefined()) return true;
    return err(LessThan(b, a));
  }
  return PyError("TemplateRuntimeError", "unknown comparison " + std::string(op));
}

StatusOr<bool> Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        return PyError("TypeError",
                       "'in <string>' requires string as left operand, not " + item.TypeName());
      }
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      for (const Value& v : container.list()) {
        if (Equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict: {
      std::string k;
      if (!item.HashKey(k)) {
        return PyError("TypeError", "unhashable type: '" + item.TypeName() + "'");
      }
      return container.dict().Find(item) != nullptr;
    }
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kGenerator: {
      Generator& g = container.generator();
      while (g.pos < g.items.size()) {
        if (Equals(g.items[g.pos++], item)) return true;
      }
      return false;
    }
    default:
      return PyError("TypeError",
                     "argument of type '" + container.TypeName() + "' is not iterable");
  }
}

StatusOr<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(py::Length(v.str()));
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.dict().size());
    case Value::Kind::kLoop:
      return v.loop().length;
    default:
      return PyError("TypeError", "object of type '" + v.TypeName() + "' has no len()");
  }
}

}  // namespace sg::jinja
