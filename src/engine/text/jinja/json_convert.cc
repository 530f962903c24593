#include "engine/text/jinja/json_convert.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/text/jinja/operators.h"
#include "engine/text/utf8.h"

namespace sg::jinja {
namespace {

template <typename J>
Value Convert(const J& j, int depth) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::None();
    case nlohmann::json::value_t::boolean:
      return Value::Bool(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value::Int(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const uint64_t u = j.template get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Float(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value::Float(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value::Str(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(j.size());
      // Past this depth the value stays None: no chat message nests that deep, and the
      // recursion of this converter and of every consumer stays bounded.
      if (depth > 256) return Value::None();
      for (const auto& x : j) items.push_back(Convert(x, depth + 1));
      return Value::MakeList(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict d;
      if (depth > 256) return Value::None();
      for (auto it = j.begin(); it != j.end(); ++it) {
        d.Set(Value::Str(it.key()), Convert(it.value(), depth + 1));
      }
      return Value::MakeDict(std::move(d));
    }
    default:
      return Value::None();
  }
}

void AppendJsonString(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    const size_t start = i;
    const uint32_t cp = utf8::Next(s, i);
    if (!ensure_ascii) {
      out.append(s, start, i - start);
      continue;
    }
    char buf[16];
    if (cp >= 0x10000) {
      const uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
    } else {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
    }
    out += buf;
  }
  out += '"';
}

std::string JsonFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "Infinity" : "-Infinity";
  return FloatRepr(f);
}

class Dumper {
 public:
  Dumper(const JsonDumpOptions& o, size_t max_bytes) : o_(o), max_bytes_(max_bytes) {}

  Status Dump(const Value& v, int level) {
    if (out_.size() > max_bytes_) {
      return ResourceExhaustedError("tojson output exceeds the output limit");
    }
    if (level > 512) return PyError("RecursionError", "maximum recursion depth exceeded");
    switch (v.kind()) {
      case Value::Kind::kNone:
        out_ += "null";
        return OkStatus();
      case Value::Kind::kBool:
        out_ += v.bool_value() ? "true" : "false";
        return OkStatus();
      case Value::Kind::kInt:
        out_ += std::to_string(v.int_value());
        return OkStatus();
      case Value::Kind::kFloat:
        out_ += JsonFloat(v.float_value());
        return OkStatus();
      case Value::Kind::kString:
        AppendJsonString(v.str(), o_.ensure_ascii, out_);
        return OkStatus();
      case Value::Kind::kList:
      case Value::Kind::kTuple: {
        const List& l = v.list();
        if (l.empty()) {
          out_ += "[]";
          return OkStatus();
        }
        out_ += '[';
        for (size_t i = 0; i < l.size(); ++i) {
          if (i) out_ += o_.item_separator;
          Newline(level + 1);
          SG_RETURN_IF_ERROR(Dump(l[i], level + 1));
        }
        Newline(level);
        out_ += ']';
        return OkStatus();
      }
      case Value::Kind::kDict: {
        const Dict& d = v.dict();
        if (d.size() == 0) {
          out_ += "{}";
          return OkStatus();
        }
        std::vector<std::pair<std::string, const Value*>> items;
        for (const auto& [k, x] : d.items()) {
          std::string key;
          switch (k.kind()) {
            case Value::Kind::kString:
              key = k.str();
              break;
            case Value::Kind::kBool:
              key = k.bool_value() ? "true" : "false";
              break;
            case Value::Kind::kInt:
              key = std::to_string(k.int_value());
              break;
            case Value::Kind::kFloat:
              key = JsonFloat(k.float_value());
              break;
            case Value::Kind::kNone:
              key = "null";
              break;
            default:
              return PyError("TypeError",
                             "keys must be str, int, float, bool or None, not " + k.TypeName());
          }
          items.emplace_back(std::move(key), &x);
        }
        if (o_.sort_keys) {
          std::stable_sort(items.begin(), items.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        out_ += '{';
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out_ += o_.item_separator;
          Newline(level + 1);
          AppendJsonString(items[i].first, o_.ensure_ascii, out_);
          out_ += o_.key_separator;
          SG_RETURN_IF_ERROR(Dump(*items[i].second, level + 1));
        }
        Newline(level);
        out_ += '}';
        return OkStatus();
      }
      default:
        return PyError("TypeError", "Object of type " + v.TypeName() + " is not JSON serializable");
    }
  }

  std::string Take() { return std::move(out_); }

 private:
  void Newline(int level) {
    if (!o_.indent) return;
    out_ += '\n';
    for (int i = 0; i < level; ++i) out_ += *o_.indent;
  }

  const JsonDumpOptions& o_;
  size_t max_bytes_;
  std::string out_;
};

}  // namespace

Value FromJson(const nlohmann::ordered_json& j) { return Convert(j, 0); }
Value FromJson(const nlohmann::json& j) { return Convert(j, 0); }

StatusOr<std::string> JsonDumps(const Value& v, const JsonDumpOptions& options, size_t max_bytes) {
  Dumper d(options, max_bytes);
  SG_RETURN_IF_ERROR(d.Dump(v, 0));
  std::string out = d.Take();
  if (out.size() > max_bytes)
    return ResourceExhaustedError("tojson output exceeds the output limit");
  return out;
}

}  // namespace sg::jinja
