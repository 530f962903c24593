#include "server/api/serde_reader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "server/api/serde_codes.h"
#include "server/api/utf8.h"

namespace sg::api {
namespace {

using namespace serde_code;  // NOLINT: the error texts

bool IsDigit(int c) { return c >= '0' && c <= '9'; }

// Rust's `{:?}` for a str (approximately: non-ASCII is kept as is).
std::string RustDebug(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '\0':
        out += "\\0";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u{";
          if (c >= 0x10) out += kHex[c >> 4];
          out += kHex[c & 15];
          out += '}';
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string DeErrorText(const DeError& e) {
  std::string out = e.syntax ? "Failed to parse the request body as JSON: "
                             : "Failed to deserialize the JSON body into the target type: ";
  if (!e.path.empty()) out += e.path + ": ";
  out += e.message;
  if (e.line > 0) {
    out += " at line " + std::to_string(e.line) + " column " + std::to_string(e.column);
  }
  return out;
}

std::string DescribeString(std::string_view s) { return "string " + RustDebug(s); }

std::string DescribeValue(const nlohmann::ordered_json& v) {
  using Json = nlohmann::ordered_json;
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "boolean `true`" : "boolean `false`";
    case Json::value_t::string:
      return DescribeString(v.get_ref<const std::string&>());
    case Json::value_t::array:
      return "sequence";
    case Json::value_t::object:
      return "map";
    case Json::value_t::number_unsigned:
      return "integer `" + std::to_string(v.get<uint64_t>()) + "`";
    case Json::value_t::number_integer:
      return "integer `" + std::to_string(v.get<int64_t>()) + "`";
    default: {
      JsonNumber n;
      n.kind = JsonNumber::kF64;
      n.f = v.get<double>();
      return DescribeNumber(n);
    }
  }
}

void SerdeReader::SetPosition(size_t at) {
  // serde_json's position_of_index.
  size_t line = 1, line_start = 0;
  for (size_t i = 0; i < at && i < in_.size(); ++i) {
    if (in_[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  error_.line = line;
  error_.column = at - line_start;
}

bool SerdeReader::Fail(bool syntax, std::string message, size_t at, bool unknown_key) {
  if (failed_) return false;
  failed_ = true;
  error_.syntax = syntax;
  error_.message = std::move(message);
  SetPosition(at);
  // serde_path_to_error prints nothing when every segment is unknown.
  std::string path;
  for (const std::string& segment : path_) {
    if (!path.empty() && segment[0] != '[') path += '.';
    path += segment;
  }
  if (!path.empty() && (unknown_key || key_mode_)) path += ".?";
  error_.path = std::move(path);
  return false;
}

bool SerdeReader::PendingDataError(std::string message) {
  if (failed_) return false;
  Fail(false, std::move(message), pos_, false);
  pending_ = true;
  return false;
}

void SerdeReader::FinishContainerError(char closer) {
  if (!pending_) return;
  const int c = PeekWs();
  if (c == closer) {
    ++pos_;
  } else if (c == ',' && closer == ']') {
    ++pos_;
    PeekWs();
  }
  SetPosition(pos_);
  pending_ = false;
}

bool SerdeReader::SyntaxError(const char* message, bool at_peek) {
  return Fail(true, message, at_peek ? std::min(in_.size(), pos_ + 1) : pos_, false);
}

bool SerdeReader::DataError(std::string message) {
  return Fail(false, std::move(message), pos_, false);
}

bool SerdeReader::InvalidLength(size_t length, std::string_view expected) {
  return PendingDataError("invalid length " + std::to_string(length) + ", expected " +
                          std::string(expected));
}

int SerdeReader::PeekWs() {
  while (pos_ < in_.size()) {
    const char c = in_[pos_];
    if (c != ' ' && c != '\n' && c != '\t' && c != '\r') break;
    ++pos_;
  }
  return PeekByte();
}

bool SerdeReader::PeekValue(int* c) {
  *c = PeekWs();
  return *c >= 0 || SyntaxError(kEofValue, true);
}

bool SerdeReader::Enter() {
  if (--remaining_depth_ == 0) return SyntaxError(kRecursionLimit, true);
  return true;
}

bool SerdeReader::ParseIdent(const char* rest) {
  for (const char* p = rest; *p; ++p) {
    if (pos_ >= in_.size()) return ErrorHere(kEofValue);
    if (in_[pos_++] != *p) return ErrorHere(kExpectedIdent);
  }
  return true;
}

bool SerdeReader::DecodeHexEscape(uint16_t* out) {
  if (in_.size() - pos_ < 4) {
    pos_ = in_.size();
    return ErrorHere(kEofString);
  }
  uint16_t v = 0;
  bool ok = true;
  for (int i = 0; i < 4; ++i) {
    const char c = in_[pos_ + i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) ok = false;
    v = static_cast<uint16_t>(v * 16 + (d < 0 ? 0 : d));
  }
  pos_ += 4;
  if (!ok) return ErrorHere(kInvalidEscape);
  *out = v;
  return true;
}

bool SerdeReader::ParseEscape(std::string* out) {
  if (pos_ >= in_.size()) return ErrorHere(kEofString);
  const char c = in_[pos_++];
  switch (c) {
    case '"':
    case '\\':
    case '/':
      *out += c;
      return true;
    case 'b':
      *out += '\b';
      return true;
    case 'f':
      *out += '\f';
      return true;
    case 'n':
      *out += '\n';
      return true;
    case 'r':
      *out += '\r';
      return true;
    case 't':
      *out += '\t';
      return true;
    case 'u':
      break;
    default:
      return ErrorHere(kInvalidEscape);
  }
  uint16_t n = 0;
  if (!DecodeHexEscape(&n)) return false;
  if (n >= 0xDC00 && n <= 0xDFFF) return ErrorHere(kLoneSurrogate);
  if (n < 0xD800 || n > 0xDBFF) {
    AppendUtf8(*out, n);
    return true;
  }
  for (const char expected : {'\\', 'u'}) {  // a leading surrogate needs a trailing one
    if (pos_ >= in_.size()) return ErrorHere(kEofString);
    const bool match = in_[pos_] == expected;
    ++pos_;
    if (!match) return ErrorHere(kEndOfHexEscape);
  }
  uint16_t n2 = 0;
  if (!DecodeHexEscape(&n2)) return false;
  if (n2 < 0xDC00 || n2 > 0xDFFF) return ErrorHere(kLoneSurrogate);
  AppendUtf8(*out, 0x10000 + ((static_cast<uint32_t>(n - 0xD800) << 10) | (n2 - 0xDC00)));
  return true;
}

void SerdeReader::SkipPlainStringBytes() {
  while (pos_ < in_.size()) {
    const unsigned char c = in_[pos_];
    if (c == '"' || c == '\\' || c < 0x20) return;
    ++pos_;
  }
}

bool SerdeReader::ParseStr(std::string* out) {
  out->clear();
  size_t start = pos_;
  while (true) {
    SkipPlainStringBytes();
    if (pos_ == in_.size()) return ErrorHere(kEofString);
    const char c = in_[pos_];
    out->append(in_.substr(start, pos_ - start));
    ++pos_;
    if (c == '"') {
      if (!IsValidUtf8(*out)) return ErrorHere(kInvalidCodePoint);
      return true;
    }
    if (c != '\\') return ErrorHere(kControlCharacter);
    if (!ParseEscape(out)) return false;
    start = pos_;
  }
}

bool SerdeReader::IgnoreStr() {
  while (true) {
    SkipPlainStringBytes();
    if (pos_ == in_.size()) return ErrorHere(kEofString);
    const char c = in_[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (c != '\\') return ErrorHere(kControlCharacter);
    ++pos_;
    if (pos_ >= in_.size()) return ErrorHere(kEofString);
    const char e = in_[pos_++];
    if (e == 'u') {
      uint16_t ignored = 0;
      if (!DecodeHexEscape(&ignored)) return false;
    } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
      return ErrorHere(kInvalidEscape);
    }
  }
}

bool SerdeReader::InvalidType(std::string_view expected) {
  const int c = PeekByte();
  std::string got;
  if (c == 'n' || c == 't' || c == 'f') {
    ++pos_;
    if (!ParseIdent(c == 'n' ? "ull" : c == 't' ? "rue" : "alse")) return false;
    got = c == 'n' ? "null" : c == 't' ? "boolean `true`" : "boolean `false`";
  } else if (c == '-' || IsDigit(c)) {
    if (c == '-') ++pos_;
    JsonNumber n;
    if (!ParseNumber(c != '-', &n)) return false;
    got = DescribeNumber(n);
  } else if (c == '"') {
    ++pos_;
    std::string s;
    if (!ParseStr(&s)) return false;
    got = DescribeString(s);
  } else if (c == '[') {
    got = "sequence";
  } else if (c == '{') {
    got = "map";
  } else {
    return SyntaxError(kExpectedValue, true);
  }
  return DataError("invalid type: " + got + ", expected " + std::string(expected));
}

bool SerdeReader::HasNextKey(bool* first, bool* has) {
  key_mode_ = true;
  const int c = PeekWs();
  bool ok = true;
  *has = false;
  if (c < 0) {
    ok = SyntaxError(kEofObject, true);
  } else if (c == '}') {
    // the end
  } else if (*first) {
    *first = false;
    *has = c == '"';
    if (!*has) ok = SyntaxError(kKeyMustBeString, true);
  } else if (c == ',') {
    ++pos_;
    const int next = PeekWs();
    *has = next == '"';
    if (next < 0) {
      ok = SyntaxError(kEofValue, true);
    } else if (next == '}') {
      ok = SyntaxError(kTrailingComma, true);
    } else if (!*has) {
      ok = SyntaxError(kKeyMustBeString, true);
    }
  } else {
    ok = SyntaxError(kExpectedObjectCommaOrEnd, true);
  }
  key_mode_ = false;
  return ok;
}

bool SerdeReader::ReadKey(std::string* key) {
  key_mode_ = true;
  ++pos_;  // the opening quote
  const bool ok = ParseStr(key);
  key_mode_ = false;
  return ok;
}

bool SerdeReader::ParseColon() {
  const int c = PeekWs();
  if (c == ':') {
    ++pos_;
    return true;
  }
  return SyntaxError(c < 0 ? kEofObject : kExpectedColon, true);
}

bool SerdeReader::EndMap() {
  const int c = PeekWs();
  if (c == '}') {
    ++pos_;
    return true;
  }
  return SyntaxError(c < 0 ? kEofObject : c == ',' ? kTrailingComma : kTrailingCharacters, true);
}

bool SerdeReader::HasNextElement(bool* first, bool* has) {
  const int c = PeekWs();
  *has = false;
  if (c < 0) return SyntaxError(kEofList, true);
  if (c == ']') return true;
  if (*first) {
    *first = false;
    *has = true;
    return true;
  }
  if (c != ',') return SyntaxError(kExpectedListCommaOrEnd, true);
  ++pos_;
  const int next = PeekWs();
  if (next < 0) return SyntaxError(kEofValue, true);
  if (next == ']') return SyntaxError(kTrailingComma, true);
  *has = true;
  return true;
}

bool SerdeReader::EndSeq() {
  const int c = PeekWs();
  if (c == ']') {
    ++pos_;
    return true;
  }
  if (c == ',') {
    ++pos_;
    return SyntaxError(PeekWs() == ']' ? kTrailingComma : kTrailingCharacters, true);
  }
  return SyntaxError(c < 0 ? kEofList : kTrailingCharacters, true);
}

bool SerdeReader::End() {
  if (PeekWs() >= 0) return SyntaxError(kTrailingCharacters, true);
  return true;
}

bool SerdeReader::ReadNumberValue(JsonNumber* out, std::string_view expected) {
  const int c = PeekWs();
  if (c < 0) return SyntaxError(kEofValue, true);
  if (c == '-') {
    ++pos_;
    return ParseNumber(false, out);
  }
  if (IsDigit(c)) return ParseNumber(true, out);
  return InvalidType(expected);
}

bool SerdeReader::ReadBool(bool* out) {
  const int c = PeekWs();
  if (c < 0) return SyntaxError(kEofValue, true);
  if (c == 't' || c == 'f') {
    ++pos_;
    if (!ParseIdent(c == 't' ? "rue" : "alse")) return false;
    *out = c == 't';
    return true;
  }
  return InvalidType("a boolean");
}

bool SerdeReader::ReadString(std::string* out) {
  const int c = PeekWs();
  if (c < 0) return SyntaxError(kEofValue, true);
  if (c != '"') return InvalidType("a string");
  ++pos_;
  return ParseStr(out);
}

bool SerdeReader::ReadUnsigned(uint64_t max, std::string_view type, uint64_t* out) {
  JsonNumber n;
  if (!ReadNumberValue(&n, type)) return false;
  const std::string expected = ", expected " + std::string(type);
  if (n.kind == JsonNumber::kF64) return DataError("invalid type: " + DescribeNumber(n) + expected);
  if (n.kind == JsonNumber::kI64 || n.u > max) {
    return DataError("invalid value: " + DescribeNumber(n) + expected);
  }
  *out = n.u;
  return true;
}

bool SerdeReader::ReadSigned(int64_t min, int64_t max, std::string_view type, int64_t* out) {
  JsonNumber n;
  if (!ReadNumberValue(&n, type)) return false;
  const std::string expected = ", expected " + std::string(type);
  if (n.kind == JsonNumber::kF64) return DataError("invalid type: " + DescribeNumber(n) + expected);
  const bool in_range =
      n.kind == JsonNumber::kU64 ? n.u <= static_cast<uint64_t>(max) : n.i >= min && n.i <= max;
  if (!in_range) return DataError("invalid value: " + DescribeNumber(n) + expected);
  *out = n.kind == JsonNumber::kU64 ? static_cast<int64_t>(n.u) : n.i;
  return true;
}

bool SerdeReader::ReadNull(bool* is_null) {
  *is_null = PeekWs() == 'n';
  if (!*is_null) return true;
  ++pos_;
  return ParseIdent("ull");
}

bool SerdeReader::ReadSeq(FunctionRef<bool()> element) {
  const int c = PeekWs();
  if (c < 0) return SyntaxError(kEofValue, true);
  if (c != '[') return InvalidType("a sequence");
  if (!Enter()) return false;
  ++pos_;
  bool first = true;
  for (size_t i = 0;; ++i) {
    bool has = false;
    if (!HasNextElement(&first, &has)) return false;
    if (!has) break;
    PushIndex(i);
    const bool ok = element();
    Pop();
    if (!ok) return false;
  }
  Leave();
  return EndSeq();
}

bool SerdeReader::ReadStringSeq(std::vector<std::string>* out) {
  return ReadSeq([&] {
    std::string s;
    if (!ReadString(&s)) return false;
    out->push_back(std::move(s));
    return true;
  });
}

}  // namespace sg::api
