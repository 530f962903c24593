// A byte-level JSON reader that reproduces what TGI's request extraction does: axum 0.7's `Json<T>`
// = serde_json 1.0.140 `Deserializer::from_slice` + serde_path_to_error + serde-derived structs.
// It is a streaming reader, not a DOM: typed code (request_parse.cc) pulls values in document
// order, so the FIRST problem in the body decides the answer exactly as in serde, whether it is a
// syntax error (400 "Failed to parse the request body as JSON: ...") or a shape error (422 "Failed
// to deserialize the JSON body into the target type: ..."). Messages are serde's, positions are
// serde_json's line/column (1-based line, column = bytes since the line start up to the byte that
// failed), paths are serde_path_to_error's ("parameters.stop[1]").
//
// Depth: containers read by typed code or buffered as serde "Content"/`Value` count against
// serde_json's recursion limit (128: the 128th nested container fails with "recursion limit
// exceeded", 400). Values of unknown fields are skipped as serde's IgnoredAny does: iteratively,
// with no depth limit (TGI accepts them), using a heap stack of one byte per open container, so no
// body can exhaust the C++ stack. Typed recursion is bounded by the request schemas (<= 5 frames).
// Never throws (no exceptions are used); single-threaded per instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/function_ref.h"

namespace sg::api {

// One deserialization failure, before axum's prefix is added.
struct DeError {
  bool syntax = false;  // serde_json Category::Syntax or Eof (-> 400); else Data (-> 422)
  std::string path;     // serde_path_to_error's path, "" when it would not be printed
  std::string message;  // serde's message, e.g. "invalid type: null, expected a boolean"
  size_t line = 0;      // 0: no position (serde prints none)
  size_t column = 0;
};

// The plain-text body axum answers with (§4.4).
std::string DeErrorText(const DeError& e);

// serde_json's ParserNumber.
struct JsonNumber {
  enum Kind { kU64, kI64, kF64 } kind = kU64;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
};

class SerdeReader {
 public:
  explicit SerdeReader(std::string_view input) : in_(input) {}
  SerdeReader(const SerdeReader&) = delete;
  SerdeReader& operator=(const SerdeReader&) = delete;

  bool failed() const { return failed_; }
  const DeError& error() const { return error_; }
  size_t index() const { return pos_; }
  std::string_view input() const { return in_; }

  // --- serde_path_to_error: segments pushed around a field or element value.
  void PushKey(std::string_view key) { path_.emplace_back(key); }
  void PushIndex(size_t index) {
    std::string segment = "[";  // (not "[" + ...: GCC 12 warns wrongly about that, PR 105329)
    segment += std::to_string(index);
    segment += ']';
    path_.push_back(std::move(segment));
  }
  void Pop() { path_.pop_back(); }

  // --- Low level (serde_json::Deserializer). All bool functions return false after an error.
  int PeekWs();  // parse_whitespace: skips " \n\t\r", returns the next byte or -1 at the end
  bool PeekValue(int* c);  // PeekWs, but the end of input is "EOF while parsing a value"
  void Eat() { ++pos_; }
  bool SyntaxError(const char* message, bool at_peek);
  bool DataError(std::string message);  // at the current position (serde's fix_position)
  // A visitor's error raised outside serde_json's primitive methods (missing/duplicate field,
  // invalid length, untagged mismatch): its position is fixed by the enclosing container, after
  // serde_json's end_map/end_seq ran (FinishContainerError).
  bool PendingDataError(std::string message);
  // On a failed container visit: consumes what end_map/end_seq would (whitespace, the closer,
  // or ", ") and gives a pending error this position.
  void FinishContainerError(char closer);
  bool InvalidType(std::string_view expected);  // peek_invalid_type: consumes the value
  bool InvalidLength(size_t length, std::string_view expected);

  // check_recursion!: call with the '[' or '{' peeked, before eating it.
  bool Enter();
  void Leave() { ++remaining_depth_; }

  // MapAccess / SeqAccess. `first` is the accessor's state (true before the first entry).
  // HasNextKey/ReadKey failures are reported at the map's path plus an unknown segment ("?").
  bool HasNextKey(bool* first, bool* has);
  bool ReadKey(std::string* key);  // after HasNextKey said yes
  bool ParseColon();
  bool EndMap();
  bool HasNextElement(bool* first, bool* has);
  bool EndSeq();
  bool End();  // Deserializer::end: only whitespace may follow the value

  // --- Values.
  bool ParseIdent(const char* rest);  // after the first letter was eaten
  bool ParseStr(std::string* out);    // after the opening quote; escapes decoded, UTF-8 checked
  bool ParseNumber(bool positive, JsonNumber* out);  // parse_integer (after a '-' was eaten)
  bool IgnoreValue();  // serde's IgnoredAny (no depth limit, strings unchecked)
  bool SkipContent();  // serde's Content / serde_json::Value (depth, UTF-8, range)

  // --- serde's primitive Deserialize impls.
  bool ReadBool(bool* out);
  bool ReadString(std::string* out);
  bool ReadUnsigned(uint64_t max, std::string_view type, uint64_t* out);           // u32/u64/usize
  bool ReadSigned(int64_t min, int64_t max, std::string_view type, int64_t* out);  // i32
  bool ReadF32(float* out);
  bool ReadNull(bool* is_null);  // deserialize_option: consumes `null`, else leaves the value
  bool ReadStringSeq(std::vector<std::string>* out);  // Vec<String>
  // Vec<T>: '[' ... ']' with element() reading each element, its index pushed on the path.
  bool ReadSeq(FunctionRef<bool()> element);

 private:
  bool Fail(bool syntax, std::string message, size_t at, bool unknown_key);
  void SetPosition(size_t at);
  bool ErrorHere(const char* message) { return SyntaxError(message, false); }
  bool ReadNumberValue(JsonNumber* out, std::string_view expected);
  bool IgnoreStr();
  // Advances pos_ over string bytes that need no attention (not '"', '\\', or a control).
  void SkipPlainStringBytes();
  bool IgnoreInteger();
  bool DecodeHexEscape(uint16_t* out);
  bool ParseEscape(std::string* out);
  bool F64FromParts(bool positive, uint64_t significand, int32_t exponent, double* out);
  bool ParseDecimal(bool positive, uint64_t significand, int32_t exponent, double* out);
  bool FinishFloat(bool positive, uint64_t significand, int32_t exponent, double* out);
  bool ParseExponent(bool positive, uint64_t significand, int32_t starting, double* out);
  bool ContentString();
  int PeekByte() const { return pos_ < in_.size() ? static_cast<unsigned char>(in_[pos_]) : -1; }

  std::string_view in_;
  size_t pos_ = 0;
  int remaining_depth_ = 128;  // serde_json's recursion limit
  std::vector<std::string> path_;
  std::vector<char> frames_;  // IgnoreValue's stack of open containers
  bool failed_ = false;
  bool pending_ = false;   // the error still waits for its position
  bool key_mode_ = false;  // reading a map key: path_to_error reports the key as unknown ("?")
  DeError error_;
};

// serde's `Unexpected` texts for error messages.
std::string DescribeNumber(const JsonNumber& n);  // "integer `5`", "floating point `1.5`"
std::string DescribeString(std::string_view s);   // "string \"x\"" (Rust Debug quoting)
// serde's `Unexpected` for an already parsed value ("null", "sequence", "map", ...).
std::string DescribeValue(const nlohmann::ordered_json& v);

}  // namespace sg::api
