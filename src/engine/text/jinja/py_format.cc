#include "engine/text/jinja/py_format.h"

#include <cmath>
#include <cstdio>

#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/py_string.h"
#include "engine/text/utf8.h"

namespace sg::jinja {
namespace {

struct Spec {
  std::string fill = " ";
  char align = '\0';  // < > ^ =
  char sign = '-';
  bool alt = false;
  bool zero = false;
  int64_t width = -1;
  char grouping = '\0';
  int64_t precision = -1;
  char type = '\0';
};

Status FormatError(const std::string& m) { return PyError("ValueError", m); }

bool ParseInt(std::string_view s, size_t& i, int64_t& out) {
  const size_t start = i;
  out = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    out = out * 10 + (s[i] - '0');
    if (out > 100000) out = 100000;  // widths past this are refused by the size limits anyway
    ++i;
  }
  return i > start;
}

StatusOr<Spec> ParseSpec(std::string_view s) {
  Spec spec;
  size_t i = 0;
  // [[fill]align]
  size_t first_len = s.empty() ? 0 : utf8::SeqLen(static_cast<unsigned char>(s[0]));
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() > first_len && is_align(s[first_len])) {
    spec.fill = std::string(s.substr(0, first_len));
    spec.align = s[first_len];
    i = first_len + 1;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == '#') {
    spec.alt = true;
    ++i;
  }
  if (i < s.size() && s[i] == '0') {
    spec.zero = true;
    ++i;
  }
  int64_t w;
  if (ParseInt(s, i, w)) spec.width = w;
  if (i < s.size() && (s[i] == ',' || s[i] == '_')) spec.grouping = s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    int64_t p;
    if (!ParseInt(s, i, p)) return FormatError("Format specifier missing precision");
    spec.precision = p;
  }
  if (i < s.size()) spec.type = s[i++];
  if (i != s.size()) return FormatError("Invalid format specifier");
  return spec;
}

std::string Group(const std::string& digits, char sep) {
  std::string out;
  const size_t n = digits.size();
  for (size_t i = 0; i < n; ++i) {
    out += digits[i];
    if (sep && (n - i - 1) % 3 == 0 && i + 1 < n) out += sep;
  }
  return out;
}

std::string Pad(const std::string& body, const std::string& sign_prefix, const Spec& spec,
                char default_align) {
  const char align = spec.align ? spec.align : (spec.zero ? '=' : default_align);
  const std::string fill = (spec.zero && !spec.align) ? "0" : spec.fill;
  const int64_t len = static_cast<int64_t>(py::Length(body) + py::Length(sign_prefix));
  if (spec.width <= len) return sign_prefix + body;
  const int64_t pad = spec.width - len;
  auto rep = [&](int64_t n) {
    std::string s;
    for (int64_t k = 0; k < n; ++k) s += fill;
    return s;
  };
  switch (align) {
    case '<':
      return sign_prefix + body + rep(pad);
    case '^':
      return rep(pad / 2) + sign_prefix + body + rep(pad - pad / 2);
    case '=':
      return sign_prefix + rep(pad) + body;
    default:
      return rep(pad) + sign_prefix + body;
  }
}

std::string FormatFloatFixed(double v, int64_t precision, char type) {
  char buf[512];
  const int p = static_cast<int>(precision > 100 ? 100 : precision);
  std::snprintf(buf, sizeof(buf), (std::string("%.*") + type).c_str(), p, v);
  return buf;
}

StatusOr<std::string> FormatNumber(const Value& v, const Spec& spec) {
  char type = spec.type;
  const bool is_float = v.is_float();
  if (type == '\0') type = is_float ? '\0' : 'd';
  std::string body;
  bool negative = false;
  if (type == 'd' || type == 'x' || type == 'X' || type == 'o' || type == 'b' || type == 'c' ||
      type == 'n') {
    if (is_float) {
      return FormatError(std::string("Unknown format code '") + type +
                         "' for object of type 'float'");
    }
    int64_t i = v.int_value();
    negative = i < 0;
    uint64_t u = negative ? (0 - static_cast<uint64_t>(i)) : static_cast<uint64_t>(i);
    if (type == 'c') {
      std::string s;
      utf8::Append(static_cast<uint32_t>(u & 0x1FFFFF), s);
      return Pad(s, "", spec, '<');
    }
    const int base = (type == 'x' || type == 'X') ? 16 : type == 'o' ? 8 : type == 'b' ? 2 : 10;
    const char* digits = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    if (u == 0) body = "0";
    while (u > 0) {
      body.insert(body.begin(), digits[u % static_cast<uint64_t>(base)]);
      u /= static_cast<uint64_t>(base);
    }
    if (spec.grouping) body = Group(body, spec.grouping);
    if (spec.alt && base != 10) {
      body = std::string("0") + (base == 16 ? type : base == 8 ? 'o' : 'b') + body;
    }
  } else {
    double d = v.AsDouble();
    negative = std::signbit(d) && !std::isnan(d);
    d = std::fabs(d);
    if (type == '\0') {
      body = spec.precision >= 0
                 ? FormatFloatFixed(d, spec.precision == 0 ? 1 : spec.precision, 'g')
                 : FloatRepr(d);
    } else if (type == 'f' || type == 'F' || type == 'e' || type == 'E' || type == 'g' ||
               type == 'G') {
      body = FormatFloatFixed(d, spec.precision >= 0 ? spec.precision : 6, type);
    } else if (type == '%') {
      body = FormatFloatFixed(d * 100, spec.precision >= 0 ? spec.precision : 6, 'f') + "%";
    } else {
      return FormatError(std::string("Unknown format code '") + type + "' for object of type '" +
                         v.TypeName() + "'");
    }
    if (spec.grouping) {
      const size_t dot = body.find_first_not_of("0123456789");
      body = Group(body.substr(0, dot), spec.grouping) +
             (dot == std::string::npos ? "" : body.substr(dot));
    }
  }
  std::string sign = negative ? "-" : (spec.sign == '+' ? "+" : spec.sign == ' ' ? " " : "");
  return Pad(body, sign, spec, '>');
}

}  // namespace

StatusOr<std::string> FormatValue(const Value& v, std::string_view spec_text) {
  SG_ASSIGN_OR_RETURN(Spec spec, ParseSpec(spec_text));
  if (v.is_number() && !(v.is_bool() && spec.type == '\0')) {
    if (spec.type == 's') return FormatError("Unknown format code 's' for object of type 'int'");
    return FormatNumber(v, spec);
  }
  if (spec.type != '\0' && spec.type != 's') {
    return FormatError(std::string("Unknown format code '") + spec.type + "' for object of type '" +
                       v.TypeName() + "'");
  }
  std::string s = v.ToStr();
  if (spec.precision >= 0) {
    const std::vector<size_t> offs = py::CodePointOffsets(s);
    if (static_cast<size_t>(spec.precision) + 1 < offs.size()) {
      s.resize(offs[static_cast<size_t>(spec.precision)]);
    }
  }
  return Pad(s, "", spec, '<');
}

StatusOr<std::string> PercentFormat(std::string_view fmt, const Value& args) {
  std::vector<Value> positional;
  const bool mapping = args.is_dict();
  if (args.is_tuple()) {
    positional = args.list();
  } else {
    positional.push_back(args);
  }
  size_t next = 0;
  bool used_mapping = false;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) return FormatError("incomplete format");
    Value arg;
    bool have_arg = false;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string_view::npos) return FormatError("incomplete format key");
      if (!mapping) return PyError("TypeError", "format requires a mapping");
      const Value* v = args.dict().Find(Value::Str(std::string(fmt.substr(i + 1, close - i - 1))));
      if (v == nullptr) {
        return PyError("KeyError", Quoted(fmt.substr(i + 1, close - i - 1)));
      }
      arg = *v;
      have_arg = true;
      used_mapping = true;
      i = close + 1;
    }
    Spec spec;
    spec.align = '>';
    while (i < fmt.size() && std::string_view("-+ #0").find(fmt[i]) != std::string_view::npos) {
      if (fmt[i] == '-') spec.align = '<';
      if (fmt[i] == '+' || fmt[i] == ' ') spec.sign = fmt[i];
      if (fmt[i] == '#') spec.alt = true;
      if (fmt[i] == '0') spec.zero = true;
      ++i;
    }
    int64_t n;
    if (ParseInt(fmt, i, n)) spec.width = n;
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      spec.precision = ParseInt(fmt, i, n) ? n : 0;
    }
    if (i >= fmt.size()) return FormatError("incomplete format");
    const char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (!have_arg) {
      if (mapping && !args.is_tuple()) {
        arg = args;
      } else {
        if (next >= positional.size()) {
          return PyError("TypeError", "not enough arguments for format string");
        }
        arg = positional[next++];
      }
    }
    if (spec.zero && spec.align == '<') spec.zero = false;
    if (spec.zero) spec.align = '\0';
    switch (conv) {
      case 's':
      case 'r':
      case 'a': {
        std::string s = conv == 's' ? arg.ToStr() : arg.Repr();
        if (spec.precision >= 0) {
          const std::vector<size_t> offs = py::CodePointOffsets(s);
          if (static_cast<size_t>(spec.precision) + 1 < offs.size()) {
            s.resize(offs[static_cast<size_t>(spec.precision)]);
          }
        }
        spec.zero = false;
        if (!spec.align) spec.align = '>';
        out += Pad(s, "", spec, '>');
        break;
      }
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        if (!arg.is_number()) {
          return PyError("TypeError", std::string("%") + conv +
                                          " format: a real number is required, not " +
                                          arg.TypeName());
        }
        Value iv = arg.is_float() ? Value::Int(static_cast<int64_t>(arg.float_value())) : arg;
        spec.type = (conv == 'i' || conv == 'u') ? 'd' : conv;
        spec.precision = -1;
        SG_ASSIGN_OR_RETURN(std::string s, FormatNumber(iv, spec));
        out += s;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!arg.is_number()) {
          return PyError("TypeError", "must be real number, not " + arg.TypeName());
        }
        spec.type = conv;
        SG_ASSIGN_OR_RETURN(std::string s, FormatNumber(Value::Float(arg.AsDouble()), spec));
        out += s;
        break;
      }
      default:
        return FormatError(std::string("unsupported format character '") + conv + "'");
    }
  }
  if (!mapping && !used_mapping && next < positional.size() && args.is_tuple()) {
    return PyError("TypeError", "not all arguments converted during string formatting");
  }
  if (!args.is_tuple() && !mapping && next == 0 && !used_mapping) {
    return PyError("TypeError", "not all arguments converted during string formatting");
  }
  return out;
}

StatusOr<std::string> StrFormat(std::string_view fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      return FormatError("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    // A replacement field, nested braces in the spec counted.
    size_t j = i + 1;
    int depth = 1;
    while (j < fmt.size() && depth > 0) {
      if (fmt[j] == '{') ++depth;
      if (fmt[j] == '}') --depth;
      if (depth > 0) ++j;
    }
    if (j >= fmt.size()) return FormatError("expected '}' before end of string");
    std::string_view field = fmt.substr(i + 1, j - i - 1);
    i = j;
    std::string_view spec;
    char conversion = '\0';
    size_t colon = field.find(':');
    if (colon != std::string_view::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    const size_t bang = field.find('!');
    if (bang != std::string_view::npos) {
      if (bang + 2 != field.size()) return FormatError("expected ':' after conversion specifier");
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    size_t k = 0;
    while (k < field.size() && field[k] != '.' && field[k] != '[') ++k;
    const std::string_view name = field.substr(0, k);
    Value v;
    if (name.empty()) {
      if (auto_index >= args.pos.size()) {
        return PyError("IndexError", "Replacement index " + std::to_string(auto_index) +
                                         " out of range for positional args tuple");
      }
      v = args.pos[auto_index++];
    } else if (name[0] >= '0' && name[0] <= '9') {
      size_t idx = 0;
      for (char d : name) idx = idx * 10 + static_cast<size_t>(d - '0');
      if (idx >= args.pos.size()) {
        return PyError("IndexError", "Replacement index " + std::to_string(idx) +
                                         " out of range for positional args tuple");
      }
      v = args.pos[idx];
    } else {
      bool found = false;
      for (const auto& [key, val] : args.kw) {
        if (key == name) {
          v = val;
          found = true;
        }
      }
      if (!found) return PyError("KeyError", Quoted(name));
    }
    // .attr and [key] chains.
    while (k < field.size()) {
      if (field[k] == '.') {
        size_t e = k + 1;
        while (e < field.size() && field[e] != '.' && field[e] != '[') ++e;
        SG_ASSIGN_OR_RETURN(v, GetAttr(v, field.substr(k + 1, e - k - 1)));
        k = e;
      } else {
        const size_t e = field.find(']', k);
        if (e == std::string_view::npos) return FormatError("Missing ']' in format string");
        const std::string_view key = field.substr(k + 1, e - k - 1);
        bool digits = !key.empty();
        for (char d : key) digits = digits && d >= '0' && d <= '9';
        Value kv = digits ? Value::Int(std::stoll(std::string(key))) : Value::Str(std::string(key));
        SG_ASSIGN_OR_RETURN(v, GetItem(v, kv));
        k = e + 1;
      }
    }
    if (v.is_undefined()) return UndefinedUse(v);
    if (conversion == 'r' || conversion == 'a') {
      v = Value::Str(v.Repr());
    } else if (conversion == 's') {
      v = Value::Str(v.ToStr());
    }
    SG_ASSIGN_OR_RETURN(std::string s, FormatValue(v, spec));
    out += s;
  }
  return out;
}

}  // namespace sg::jinja
