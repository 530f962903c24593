#include "engine/text/jinja/value.h"

#include <utf8proc.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "engine/text/utf8.h"

namespace sg::jinja {

// ---- Dict ----

const Value* Dict::Find(const Value& key) const {
  std::string k;
  if (!key.HashKey(k)) return nullptr;
  auto it = index_.find(k);
  return it == index_.end() ? nullptr : &items_[it->second].second;
}

void Dict::Set(const Value& key, Value value) {
  std::string k;
  if (!key.HashKey(k)) return;  // callers check hashability first
  auto [it, inserted] = index_.emplace(std::move(k), items_.size());
  if (inserted) {
    items_.emplace_back(key, std::move(value));
  } else {
    items_[it->second].second = std::move(value);
  }
}

// ---- construction ----

Value Value::Undefined(std::string message, bool security) {
  Value v;
  if (!message.empty() || security) {
    v.p_ = std::make_shared<UndefinedInfo>(UndefinedInfo{std::move(message), security});
  }
  return v;
}
Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}
Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  v.i_ = b ? 1 : 0;
  v.f_ = v.i_;
  return v;
}
Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}
Value Value::Float(double f) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.f_ = f;
  return v;
}
Value Value::Str(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.p_ = std::make_shared<std::string>(std::move(s));
  return v;
}
Value Value::Markup(std::string s) {
  Value v = Str(std::move(s));
  v.b_ = true;
  return v;
}
namespace {

int MaxDepth(const List& items) {
  int d = 0;
  for (const Value& x : items) d = std::max(d, x.depth());
  return d;
}

}  // namespace

Value Value::MakeList(List items) {
  Value v;
  v.kind_ = Kind::kList;
  v.depth_ = 1 + MaxDepth(items);
  v.p_ = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::MakeTuple(List items) {
  Value v = MakeList(std::move(items));
  v.kind_ = Kind::kTuple;
  return v;
}
Value Value::MakeDict(Dict d) {
  Value v;
  v.kind_ = Kind::kDict;
  for (const auto& [k, x] : d.items()) v.depth_ = std::max({v.depth_, k.depth(), x.depth()});
  ++v.depth_;
  v.p_ = std::make_shared<Dict>(std::move(d));
  return v;
}
Value Value::MakeNamespace(Dict d) {
  Value v = MakeDict(std::move(d));
  v.kind_ = Kind::kNamespace;
  v.depth_ = 0;
  return v;
}
Value Value::MakeLoop(LoopState s) {
  Value v;
  v.kind_ = Kind::kLoop;
  v.depth_ = 1 + (s.items ? MaxDepth(*s.items) : 0);
  v.p_ = std::make_shared<LoopState>(std::move(s));
  return v;
}
Value Value::MakeGenerator(List items) {
  Value v;
  v.kind_ = Kind::kGenerator;
  v.depth_ = 1 + MaxDepth(items);
  v.p_ = std::make_shared<Generator>(Generator{std::move(items), 0});
  return v;
}
Value Value::MakeFunction(std::string name, NativeFn fn, bool is_macro, uint64_t cost, int depth) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.depth_ = depth;
  v.p_ = std::make_shared<Function>(Function{std::move(name), std::move(fn), is_macro, cost});
  return v;
}

double Value::AsDouble() const {
  if (is_float()) return f_;
  return static_cast<double>(i_);
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return b_;
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return f_ != 0.0;
    case Kind::kString:
      return !str().empty();
    case Kind::kList:
    case Kind::kTuple:
      return !list().empty();
    case Kind::kDict:
      return dict().size() != 0;
    default:
      return true;
  }
}

// ---- printing ----

std::string FloatRepr(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  if (f == 0) return std::signbit(f) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  // sci = [-]D[.DDD]e(+|-)XX
  bool neg = false;
  size_t i = 0;
  if (sci[0] == '-') {
    neg = true;
    i = 1;
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t k = i; k < e; ++k) {
    if (sci[k] != '.') digits.push_back(sci[k]);
  }
  const int exp = std::atoi(sci.c_str() + e + 1);
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else {
      const size_t int_len = static_cast<size_t>(exp) + 1;
      if (digits.size() <= int_len) {
        out += digits;
        out.append(int_len - digits.size(), '0');
        out += ".0";
      } else {
        out += digits.substr(0, int_len);
        out += '.';
        out += digits.substr(int_len);
      }
    }
  } else {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out += digits.substr(1);
    }
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  return out;
}

namespace {

// Python's str.isprintable for one code point: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp,
// Zs (except the ASCII space).
bool IsPrintable(uint32_t cp) {
  if (cp == ' ') return true;
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp < 0x7F) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

void AppendSeq(const List& items, char open, char close, bool tuple, std::string& out, size_t limit,
               int depth) {
  out += open;
  for (size_t i = 0; i < items.size() && out.size() <= limit; ++i) {
    if (i) out += ", ";
    items[i].AppendRepr(out, limit, depth + 1);
  }
  if (tuple && items.size() == 1) out += ',';
  out += close;
}

void AppendDict(const Dict& d, std::string& out, size_t limit, int depth) {
  out += '{';
  bool first = true;
  for (const auto& [k, v] : d.items()) {
    if (out.size() > limit) break;
    if (!first) out += ", ";
    first = false;
    k.AppendRepr(out, limit, depth + 1);
    out += ": ";
    v.AppendRepr(out, limit, depth + 1);
  }
  out += '}';
}

}  // namespace

void AppendStringRepr(std::string_view s, std::string& out) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  out += quote;
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    if (cp == static_cast<uint32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!IsPrintable(cp)) {
      char buf[16];
      if (cp < 0x100) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", cp);
      } else if (cp < 0x10000) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
      } else {
        std::snprintf(buf, sizeof(buf), "\\U%08x", cp);
      }
      out += buf;
    } else {
      utf8::Append(cp, out);
    }
  }
  out += quote;
}

std::string Value::ToStr(size_t limit) const {
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kString:
      return str();
    default:
      return Repr(limit);
  }
}

std::string Value::Repr(size_t limit) const {
  std::string out;
  AppendRepr(out, limit);
  return out;
}

void Value::AppendRepr(std::string& out, size_t limit, int depth) const {
  if (depth > kMaxValueDepth && (is_sequence_like() || is_dict() || is_namespace())) {
    out += "[...]";
    return;
  }
  switch (kind_) {
    case Kind::kUndefined:
      out += "Undefined";
      return;
    case Kind::kNone:
      out += "None";
      return;
    case Kind::kBool:
      out += b_ ? "True" : "False";
      return;
    case Kind::kInt:
      out += std::to_string(i_);
      return;
    case Kind::kFloat:
      out += FloatRepr(f_);
      return;
    case Kind::kString:
      AppendStringRepr(str(), out);
      return;
    case Kind::kList:
      AppendSeq(list(), '[', ']', false, out, limit, depth);
      return;
    case Kind::kTuple:
      AppendSeq(list(), '(', ')', true, out, limit, depth);
      return;
    case Kind::kDict:
      AppendDict(dict(), out, limit, depth);
      return;
    case Kind::kNamespace:
      out += "<Namespace ";
      AppendDict(dict(), out, limit, depth);
      out += '>';
      return;
    case Kind::kLoop:
      out += "<LoopContext " + std::to_string(loop().index0 + 1) + "/" +
             std::to_string(loop().length) + ">";
      return;
    case Kind::kGenerator:
      out += "<generator object>";
      return;
    case Kind::kFunction:
      if (function().is_macro) {
        out += "<Macro '" + function().name + "'>";
      } else {
        out += "<built-in function " + function().name + ">";
      }
      return;
  }
}

std::string Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kTuple:
      return "tuple";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kLoop:
      return "LoopContext";
    case Kind::kGenerator:
      return "generator";
    case Kind::kFunction:
      return function().is_macro ? "Macro" : "builtin_function_or_method";
  }
  return "object";
}

std::string Value::ObjectTypeRepr() const {
  if (is_none()) return "None";
  return TypeName() + " object";
}

bool Value::HashKey(std::string& key, int depth) const {
  if (depth > kMaxValueDepth) return false;
  switch (kind_) {
    case Kind::kNone:
      key.assign(1, 'n');
      return true;
    case Kind::kBool:
    case Kind::kInt:
      key.assign(1, 'i');
      key += std::to_string(i_);
      return true;
    case Kind::kFloat:
      if (std::isfinite(f_) && f_ == std::floor(f_) && std::fabs(f_) < 9.2e18) {
        key.assign(1, 'i');
        key += std::to_string(static_cast<int64_t>(f_));
      } else {
        key.assign(1, 'f');
        key += FloatRepr(f_);
      }
      return true;
    case Kind::kString:
      key.assign(1, 's');
      key += str();
      return true;
    case Kind::kTuple: {
      key.assign("t(", 2);
      for (const Value& v : list()) {
        std::string k;
        if (!v.HashKey(k, depth + 1)) return false;
        key += std::to_string(k.size()) + ":" + k;
      }
      key += ")";
      return true;
    }
    case Kind::kUndefined:
      key.assign(1, 'u');
      return true;
    default:
      return false;
  }
}

bool Equals(const Value& a, const Value& b, int depth) {
  using K = Value::Kind;
  if (depth > kMaxValueDepth) return false;
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.AsDouble() == b.AsDouble();
    return a.int_value() == b.int_value();
  }
  if (a.kind() != b.kind()) {
    // list == tuple is False in Python; everything else of different kinds differs too.
    return false;
  }
  switch (a.kind()) {
    case K::kUndefined:
    case K::kNone:
      return true;
    case K::kString:
      return a.str() == b.str();
    case K::kList:
    case K::kTuple: {
      const List& x = a.list();
      const List& y = b.list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!Equals(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case K::kDict: {
      const Dict& x = a.dict();
      const Dict& y = b.dict();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x.items()) {
        const Value* o = y.Find(k);
        if (o == nullptr || !Equals(v, *o, depth + 1)) return false;
      }
      return true;
    }
    case K::kNamespace:
    case K::kLoop:
    case K::kGenerator:
    case K::kFunction:
      return &a.dict() == &b.dict();  // identity (same payload pointer)
    default:
      return false;
  }
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

// ---- CallArgs ----

Value CallArgs::Take(size_t position, std::string_view name) {
  for (auto it = kw.begin(); it != kw.end(); ++it) {
    if (it->first == name) {
      Value v = std::move(it->second);
      kw.erase(it);
      return v;
    }
  }
  if (position < pos.size()) return pos[position];
  return Value();
}

bool CallArgs::Has(size_t position, std::string_view name) const {
  if (position < pos.size()) return true;
  for (const auto& [k, v] : kw) {
    if (k == name) return true;
  }
  return false;
}

}  // namespace sg::jinja
