// GgufValue accessors and display; GGUF metadata type names.
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <string>

#include "engine/io/gguf.h"

namespace sg {

const char* GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
      return "uint8";
    case GgufType::kInt8:
      return "int8";
    case GgufType::kUint16:
      return "uint16";
    case GgufType::kInt16:
      return "int16";
    case GgufType::kUint32:
      return "uint32";
    case GgufType::kInt32:
      return "int32";
    case GgufType::kFloat32:
      return "float32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "uint64";
    case GgufType::kInt64:
      return "int64";
    case GgufType::kFloat64:
      return "float64";
  }
  return "unknown";
}

std::optional<int64_t> GgufValue::AsInt() const {
  if (const auto* u = std::get_if<uint64_t>(&value)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(*u);
  }
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  return std::nullopt;
}

std::optional<double> GgufValue::AsFloat() const {
  if (const auto* u = std::get_if<uint64_t>(&value)) return static_cast<double>(*u);
  if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::nullopt;
}

std::optional<bool> GgufValue::AsBool() const {
  if (const auto* b = std::get_if<bool>(&value)) return *b;
  return std::nullopt;
}

const std::string* GgufValue::AsString() const { return std::get_if<std::string>(&value); }

const GgufArray* GgufValue::AsArray() const { return std::get_if<GgufArray>(&value); }

namespace {

constexpr size_t kMaxDisplayItems = 8;
constexpr size_t kMaxDisplayStringBytes = 80;

// Quotes a string, escaping control characters, cut at kMaxDisplayStringBytes.
std::string QuoteForDisplay(const std::string& s) {
  std::string out = "\"";
  size_t n = s.size() < kMaxDisplayStringBytes ? s.size() : kMaxDisplayStringBytes;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (n < s.size()) out += "...(" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace

std::string GgufValue::ToDisplayString() const {
  if (const auto* u = std::get_if<uint64_t>(&value)) return std::to_string(*u);
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.9g", *d);
    return buf;
  }
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&value)) return QuoteForDisplay(*s);
  const GgufArray& arr = std::get<GgufArray>(value);
  std::string out = "[";
  for (size_t i = 0; i < arr.items.size() && i < kMaxDisplayItems; ++i) {
    if (i > 0) out += ", ";
    out += arr.items[i].ToDisplayString();
  }
  if (arr.items.size() > kMaxDisplayItems) {
    out += ", ... (" + std::to_string(arr.items.size()) + " " + GgufTypeName(arr.elem_type) +
           " items)";
  }
  out += "]";
  return out;
}

}  // namespace sg
