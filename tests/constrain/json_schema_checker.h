// Test support for json_schema_test.cc: random walks over a ByteDfa, an independent JSON Schema
// validator (the test's own reading of draft 2020-12 and of ajv-formats' "full" rules, written
// without looking at the compiler), and a generator of random schemas over the supported
// keywords. Header-only: one test file includes it.
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "engine/constrain/byte_dfa.h"

namespace sg::json_schema_testing {

using nlohmann::json;

// A random accepted string: a random live byte at each state (ASCII preferred, so structure and
// escapes come up often), stopping at accepting states with probability 1/6; past `soft_limit`
// bytes it finishes along a shortest path.
inline std::string RandomWalk(const ByteDfa& dfa, std::mt19937_64& rng, size_t soft_limit = 400) {
  std::string out;
  int32_t s = dfa.start();
  std::vector<int> ascii, high;
  while (true) {
    if (dfa.IsAccepting(s) &&
        (!dfa.HasContinuation(s) || out.size() >= soft_limit || rng() % 6 == 0)) {
      break;
    }
    int b;
    if (out.size() >= soft_limit) {
      b = dfa.ShortestPathByte(s);
    } else {
      ascii.clear();
      high.clear();
      for (int c = 0; c < 256; ++c) {
        if (dfa.Next(s, static_cast<uint8_t>(c)) != ByteDfa::kDead)
          (c < 0x80 ? ascii : high).push_back(c);
      }
      const bool pick_ascii = !ascii.empty() && (high.empty() || rng() % 10 < 8);
      const std::vector<int>& from = pick_ascii ? ascii : high;
      b = from[rng() % from.size()];
    }
    out.push_back(static_cast<char>(b));
    s = dfa.Next(s, static_cast<uint8_t>(b));
    if (s == ByteDfa::kDead) return out + "<dead>";
  }
  return out;
}

// ---- An independent validator ----

inline size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

inline bool IsLeap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

inline bool ValidDate(const std::string& s) {
  static const std::regex re(R"(^(\d\d\d\d)-(\d\d)-(\d\d)$)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  static const int kDays[] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= (mo == 2 && IsLeap(y) ? 29 : kDays[mo]);
}

inline bool ValidTime(const std::string& s) {  // time zone required (ajv-formats full, strict)
  static const std::regex re(R"(^(\d\d):(\d\d):(\d\d)(\.\d+)?(z|[+-](\d\d)(?::?(\d\d))?)$)",
                             std::regex::icase);
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int h = std::stoi(m[1]), mi = std::stoi(m[2]), se = std::stoi(m[3]);
  if (m[6].matched && std::stoi(m[6]) > 23) return false;
  if (m[7].matched && std::stoi(m[7]) > 59) return false;
  return h <= 23 && mi <= 59 && se <= 59;
}

inline bool ValidFormat(const std::string& format, const std::string& s) {
  if (format == "date") return ValidDate(s);
  if (format == "time") return ValidTime(s);
  if (format == "date-time") {
    const size_t t = s.find_first_of("tT ");
    if (t == std::string::npos || s.find_first_of("tT ", t + 1) != std::string::npos) return false;
    return ValidDate(s.substr(0, t)) && ValidTime(s.substr(t + 1));
  }
  if (format == "uuid") {
    static const std::regex re(R"(^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$)",
                               std::regex::icase);
    return std::regex_match(s, re);
  }
  if (format == "email") {
    static const std::regex re(
        R"(^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$)",
        std::regex::icase);
    return std::regex_match(s, re);
  }
  return false;
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  // Empty when `v` validates; else a description of the first failure.
  std::string Check(const json& schema, const json& v, const std::string& at = "") const {
    if (schema.is_boolean()) return schema.get<bool>() ? "" : at + ": false schema";
    std::string e;
    if (schema.contains("$ref")) {
      const std::string ref = schema["$ref"];
      json::json_pointer ptr(ref.substr(1));
      if (!(e = Check(root_.at(ptr), v, at)).empty()) return e;
    }
    for (const char* kw : {"allOf", "anyOf", "oneOf"}) {
      if (!schema.contains(kw)) continue;
      int passed = 0;
      std::string first;
      for (const json& s : schema[kw]) {
        std::string r = Check(s, v, at);
        if (r.empty()) ++passed;
        if (!r.empty() && first.empty()) first = r;
      }
      const size_t n = schema[kw].size();
      if (std::string(kw) == "allOf" && passed != static_cast<int>(n)) return first;
      if (std::string(kw) == "anyOf" && passed == 0) return at + ": anyOf none: " + first;
      if (std::string(kw) == "oneOf" && passed != 1) {
        return at + ": oneOf passed " + std::to_string(passed);
      }
    }
    if (schema.contains("type") && !TypeOk(schema["type"], v)) return at + ": type";
    if (schema.contains("enum")) {
      bool found = false;
      for (const json& x : schema["enum"]) found = found || x == v;
      if (!found) return at + ": enum";
    }
    if (schema.contains("const") && !(schema["const"] == v)) return at + ": const";
    if (v.is_number()) return CheckNumber(schema, v.get<double>(), at);
    if (v.is_string()) return CheckString(schema, v.get<std::string>(), at);
    if (v.is_array()) return CheckArray(schema, v, at);
    if (v.is_object()) return CheckObject(schema, v, at);
    return "";
  }

 private:
  static bool IsInteger(const json& v) {
    if (v.is_number_integer()) return true;
    return v.is_number_float() && std::floor(v.get<double>()) == v.get<double>();
  }

  static bool TypeOk(const json& type, const json& v) {
    if (type.is_array()) {
      for (const json& t : type) {
        if (TypeOk(t, v)) return true;
      }
      return false;
    }
    const std::string t = type;
    if (t == "null") return v.is_null();
    if (t == "boolean") return v.is_boolean();
    if (t == "integer") return IsInteger(v);
    if (t == "number") return v.is_number();
    if (t == "string") return v.is_string();
    if (t == "array") return v.is_array();
    if (t == "object") return v.is_object();
    return false;
  }

  static std::string CheckNumber(const json& s, double x, const std::string& at) {
    if (!std::isfinite(x)) return at + ": not finite";
    if (s.contains("minimum") && !(x >= s["minimum"].get<double>())) return at + ": minimum";
    if (s.contains("maximum") && !(x <= s["maximum"].get<double>())) return at + ": maximum";
    if (s.contains("exclusiveMinimum") && !(x > s["exclusiveMinimum"].get<double>())) {
      return at + ": exclusiveMinimum";
    }
    if (s.contains("exclusiveMaximum") && !(x < s["exclusiveMaximum"].get<double>())) {
      return at + ": exclusiveMaximum";
    }
    if (s.contains("multipleOf") && std::fmod(x, s["multipleOf"].get<double>()) != 0) {
      return at + ": multipleOf";
    }
    return "";
  }

  static std::string CheckString(const json& s, const std::string& x, const std::string& at) {
    const size_t n = CodePoints(x);
    if (s.contains("minLength") && n < s["minLength"].get<size_t>()) return at + ": minLength";
    if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) return at + ": maxLength";
    if (s.contains("pattern")) {
      const std::regex re(s["pattern"].get<std::string>(), std::regex::ECMAScript);
      if (!std::regex_search(x, re)) return at + ": pattern";
    }
    if (s.contains("format") && !ValidFormat(s["format"], x)) return at + ": format " + x;
    return "";
  }

  std::string CheckArray(const json& s, const json& v, const std::string& at) const {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return at + ": minItems";
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return at + ": maxItems";
    size_t prefix = 0;
    if (s.contains("prefixItems")) prefix = s["prefixItems"].size();
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string here = at + "/" + std::to_string(i);
      std::string e;
      if (i < prefix) {
        e = Check(s["prefixItems"][i], v[i], here);
      } else if (s.contains("items")) {
        e = Check(s["items"], v[i], here);
      }
      if (!e.empty()) return e;
    }
    if (s.value("uniqueItems", false)) {
      for (size_t i = 0; i < v.size(); ++i) {
        for (size_t j = i + 1; j < v.size(); ++j) {
          if (v[i] == v[j]) return at + ": uniqueItems";
        }
      }
    }
    return "";
  }

  std::string CheckObject(const json& s, const json& v, const std::string& at) const {
    if (s.contains("required")) {
      for (const json& r : s["required"]) {
        if (!v.contains(r.get<std::string>())) return at + ": required " + r.get<std::string>();
      }
    }
    if (s.contains("minProperties") && v.size() < s["minProperties"].get<size_t>()) {
      return at + ": minProperties";
    }
    if (s.contains("maxProperties") && v.size() > s["maxProperties"].get<size_t>()) {
      return at + ": maxProperties";
    }
    if (s.contains("dependentRequired")) {
      for (auto d = s["dependentRequired"].begin(); d != s["dependentRequired"].end(); ++d) {
        if (!v.contains(d.key())) continue;
        for (const json& r : d.value()) {
          if (!v.contains(r.get<std::string>())) return at + ": dependentRequired";
        }
      }
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string here = at + "/" + it.key();
      std::string e;
      if (s.contains("properties") && s["properties"].contains(it.key())) {
        e = Check(s["properties"][it.key()], it.value(), here);
      } else if (s.contains("additionalProperties")) {
        e = Check(s["additionalProperties"], it.value(), here);
      }
      if (!e.empty()) return e;
    }
    return "";
  }

  const json& root_;
};

// ---- Random schemas over the supported keywords ----

// ASCII-only pattern languages, so std::regex on UTF-8 bytes sees what a code-point engine sees.
inline const char* const kPatterns[] = {
    "^[a-z]+$", "^[A-Z]{2,4}-\\d{1,3}$", "^(ab|cd)*e?$", "^\\d{3}(-\\d{4})?$",    "^[a-f0-9]{1,8}$",
    "^x|y$",    "^\"q\\\\[a-c]$",        "^(yes|no)$",   "^[0-9]+(\\.[0-9]{2})?$"};
inline const char* const kFormats[] = {"date", "time", "date-time", "uuid", "email"};

class SchemaGen {
 public:
  explicit SchemaGen(uint64_t seed) : rng_(seed) {}

  json Make() {
    json root = Gen(0);
    if (!defs_.empty()) root["$defs"] = defs_;
    return root;
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % n); }
  bool Coin() { return rng_() % 2 == 0; }

  json Value() {
    switch (Pick(6)) {
      case 0:
        return nullptr;
      case 1:
        return Coin();
      case 2:
        return Pick(200) - 100;
      case 3:
        return (Pick(2000) - 1000) / 8.0;
      case 4:
        return std::string(1 + Pick(3), static_cast<char>('a' + Pick(4)));
      default:
        return json::array({Pick(3), "z"});
    }
  }

  json Gen(int depth) {
    const int kind = depth >= 3 ? Pick(9) : Pick(18);
    json s = json::object();
    switch (kind) {
      case 0:
        s["type"] = "null";
        break;
      case 1:
        s["type"] = "boolean";
        break;
      case 2: {
        s["type"] = "integer";
        const int lo = Pick(400) - 200, hi = lo + Pick(300);
        if (Coin()) s[Coin() ? "minimum" : "exclusiveMinimum"] = Coin() ? json(lo) : json(lo + 0.5);
        if (Coin())
          s[Coin() ? "maximum" : "exclusiveMaximum"] = Coin() ? json(hi) : json(hi - 0.25);
        break;
      }
      case 3: {
        s["type"] = "number";
        const int lo = Pick(40) - 20, hi = lo + 1 + Pick(30);
        if (Coin()) s[Coin() ? "minimum" : "exclusiveMinimum"] = lo;
        if (Coin()) s[Coin() ? "maximum" : "exclusiveMaximum"] = hi;
        if (Pick(5) == 0) s["multipleOf"] = 1;
        break;
      }
      case 4: {
        s["type"] = "string";
        const int lo = Pick(4);
        if (Coin()) s["minLength"] = lo;
        if (Coin()) s["maxLength"] = lo + Pick(6);
        break;
      }
      case 5:
        s["type"] = "string";
        s["pattern"] = kPatterns[Pick(std::size(kPatterns))];
        if (Pick(3) == 0) s["maxLength"] = 1 + Pick(6);
        if (Pick(4) == 0) s["minLength"] = Pick(4);
        break;
      case 6:
        s["format"] = kFormats[Pick(std::size(kFormats))];
        if (Pick(3) == 0) s["maxLength"] = 8 + Pick(30);
        if (Pick(4) == 0) s["minLength"] = Pick(12);
        break;
      case 7: {
        json values = json::array();
        for (int i = 0, n = 1 + Pick(4); i < n; ++i) values.push_back(Value());
        s["enum"] = values;
        if (Coin()) s["type"] = Coin() ? "string" : "integer";
        if (Pick(4) == 0) s["minLength"] = 2;
        break;
      }
      case 8:
        s["const"] = Value();
        break;
      case 9:
      case 10:
      case 11: {
        if (Coin()) s["type"] = "object";
        json props = json::object();
        json required = json::array();
        for (int i = 0, n = Pick(4); i < n; ++i) {
          const std::string name = std::string(1, static_cast<char>('a' + Pick(6)));
          props[name] = Gen(depth + 1);
          if (Coin()) required.push_back(name);
        }
        if (!props.empty() || Coin()) s["properties"] = props;
        if (!required.empty()) s["required"] = required;
        switch (Pick(4)) {
          case 0:
            s["additionalProperties"] = false;
            break;
          case 1:
            s["additionalProperties"] = Gen(depth + 1);
            break;
          case 2:
            s["additionalProperties"] = true;
            break;
          default:
            break;
        }
        if (Pick(4) == 0) s["maxProperties"] = 1 + Pick(3);
        if (Pick(5) == 0 && !props.empty()) {
          s["dependentRequired"] = {{props.begin().key(), json::array({props.rbegin().key()})}};
        }
        break;
      }
      case 12:
      case 13: {
        s["type"] = "array";
        if (Coin()) {
          json prefix = json::array();
          for (int i = 0, n = 1 + Pick(3); i < n; ++i) prefix.push_back(Gen(depth + 1));
          s["prefixItems"] = prefix;
        }
        if (Coin()) s["items"] = Pick(4) == 0 ? json(false) : Gen(depth + 1);
        if (Coin()) s["minItems"] = Pick(3);
        if (Coin()) s["maxItems"] = 1 + Pick(4);
        if (Pick(6) == 0) s["uniqueItems"] = true;
        break;
      }
      case 14: {
        json branches = json::array();
        for (int i = 0, n = 2 + Pick(2); i < n; ++i) branches.push_back(Gen(depth + 1));
        s[Coin() ? "anyOf" : "allOf"] = branches;
        if (Pick(3) == 0) s["type"] = "object";
        break;
      }
      case 15: {
        static const char* const kTypes[] = {"null", "boolean", "string", "array", "object"};
        json branches = json::array();
        const int a = Pick(5), b = (a + 1 + Pick(4)) % 5;
        branches.push_back(json{{"type", kTypes[a]}});
        branches.push_back(json{{"type", kTypes[b]}});
        s["oneOf"] = branches;
        break;
      }
      case 16: {
        const std::string name = "d" + std::to_string(defs_.size());
        defs_[name] = json::object();  // reserve the name before generating its schema
        defs_[name] = Gen(depth + 1);
        s["$ref"] = "#/$defs/" + name;
        break;
      }
      default:
        s["type"] = json::array({Coin() ? "string" : "integer", "null"});
        if (Coin()) s["maxLength"] = 3;
        if (Coin()) s["minimum"] = 5;
        break;
    }
    return s;
  }

  std::mt19937_64 rng_;
  json defs_ = json::object();
};

}  // namespace sg::json_schema_testing
