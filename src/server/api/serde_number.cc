// SerdeReader's numbers: serde_json's parse_integer family (u64 / i64 / f64 with its own
// decimal-to-double arithmetic, "number out of range" on overflow), the number skipping of
// IgnoredAny, and serde's texts for numbers in error messages.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

#include "server/api/number_format.h"
#include "server/api/serde_codes.h"
#include "server/api/serde_reader.h"

namespace sg::api {
namespace {

using namespace serde_code;  // NOLINT: the error texts

bool IsDigit(int c) { return c >= '0' && c <= '9'; }

// serde_json's `overflow!(a * 10 + b, max)`.
bool U64Overflows(uint64_t a, uint64_t digit) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  return a >= kMax / 10 && (a > kMax / 10 || digit > kMax % 10);
}

// 1e0 .. 1e308 as Rust's literals (correctly rounded), like serde_json's POW10 table.
const std::array<double, 309>& Pow10() {
  static const std::array<double, 309> table = [] {
    std::array<double, 309> t{};
    for (int k = 0; k < 309; ++k) {
      const std::string text = "1e" + std::to_string(k);
      std::from_chars(text.data(), text.data() + text.size(), t[k]);
    }
    return t;
  }();
  return table;
}

// Rust's `as f32` for an f64: round to nearest; beyond the f32 range -> +-inf (never UB).
float F64ToF32(double d) {
  constexpr double kRoundsToInf = 3.4028235677973366e38;  // FLT_MAX + half an ulp
  if (std::isfinite(d) && std::fabs(d) >= kRoundsToInf) {
    return d > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  }
  return static_cast<float>(d);
}

}  // namespace

std::string DescribeNumber(const JsonNumber& n) {
  switch (n.kind) {
    case JsonNumber::kU64:
      return "integer `" + std::to_string(n.u) + "`";
    case JsonNumber::kI64:
      return "integer `" + std::to_string(n.i) + "`";
    case JsonNumber::kF64:
      break;
  }
  std::string text = FormatF64Display(n.f);  // serde's WithDecimalPoint
  if (std::isfinite(n.f) && text.find('.') == std::string::npos) text += ".0";
  return "floating point `" + text + "`";
}

bool SerdeReader::F64FromParts(bool positive, uint64_t significand, int32_t exponent, double* out) {
  double f = static_cast<double>(significand);
  int64_t exp = exponent;
  while (true) {
    const uint64_t magnitude = static_cast<uint64_t>(exp < 0 ? -exp : exp);
    if (magnitude < Pow10().size()) {
      if (exp >= 0) {
        f *= Pow10()[magnitude];
        if (std::isinf(f)) return ErrorHere(kNumberOutOfRange);
      } else {
        f /= Pow10()[magnitude];
      }
      break;
    }
    if (f == 0.0) break;
    if (exp >= 0) return ErrorHere(kNumberOutOfRange);
    f /= 1e308;
    exp += 308;
  }
  *out = positive ? f : -f;
  return true;
}

bool SerdeReader::ParseExponent(bool positive, uint64_t significand, int32_t starting,
                                double* out) {
  ++pos_;  // 'e' or 'E'
  bool positive_exp = true;
  if (PeekByte() == '+') {
    ++pos_;
  } else if (PeekByte() == '-') {
    ++pos_;
    positive_exp = false;
  }
  if (pos_ >= in_.size()) return ErrorHere(kEofValue);
  const char first = in_[pos_++];
  if (!IsDigit(first)) return ErrorHere(kInvalidNumber);
  int32_t exp = first - '0';
  while (IsDigit(PeekByte())) {
    ++pos_;
    const int32_t digit = in_[pos_ - 1] - '0';
    constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
    if (exp >= kMax / 10 && (exp > kMax / 10 || digit > kMax % 10)) {
      if (significand != 0 && positive_exp) return ErrorHere(kNumberOutOfRange);
      while (IsDigit(PeekByte())) ++pos_;
      *out = positive ? 0.0 : -0.0;
      return true;
    }
    exp = exp * 10 + digit;
  }
  const int64_t final_exp = positive_exp ? int64_t{starting} + exp : int64_t{starting} - exp;
  const int32_t clamped = static_cast<int32_t>(std::clamp<int64_t>(
      final_exp, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  return F64FromParts(positive, significand, clamped, out);
}

bool SerdeReader::FinishFloat(bool positive, uint64_t significand, int32_t exponent, double* out) {
  if (PeekByte() == 'e' || PeekByte() == 'E') {
    return ParseExponent(positive, significand, exponent, out);
  }
  return F64FromParts(positive, significand, exponent, out);
}

bool SerdeReader::ParseDecimal(bool positive, uint64_t significand, int32_t exponent, double* out) {
  ++pos_;  // '.'
  int32_t after = 0;
  while (IsDigit(PeekByte())) {
    const uint64_t digit = in_[pos_] - '0';
    if (U64Overflows(significand, digit)) {  // serde_json drops the digits that do not fit
      while (IsDigit(PeekByte())) ++pos_;
      return FinishFloat(positive, significand, exponent + after, out);
    }
    ++pos_;
    significand = significand * 10 + digit;
    --after;
  }
  if (after == 0) return SyntaxError(pos_ < in_.size() ? kInvalidNumber : kEofValue, true);
  return FinishFloat(positive, significand, exponent + after, out);
}

bool SerdeReader::ParseNumber(bool positive, JsonNumber* out) {
  if (pos_ >= in_.size()) return ErrorHere(kEofValue);
  const char first = in_[pos_++];
  uint64_t significand = 0;
  if (first == '0') {
    if (IsDigit(PeekByte())) return SyntaxError(kInvalidNumber, true);
  } else if (first >= '1' && first <= '9') {
    significand = first - '0';
    int32_t extra = 0;  // digits beyond u64 (serde_json's parse_long_integer)
    while (IsDigit(PeekByte())) {
      const uint64_t digit = in_[pos_] - '0';
      if (extra > 0 || U64Overflows(significand, digit)) {
        ++extra;
      } else {
        significand = significand * 10 + digit;
      }
      ++pos_;
    }
    if (extra > 0) {
      out->kind = JsonNumber::kF64;
      if (PeekByte() == '.') return ParseDecimal(positive, significand, extra, &out->f);
      return FinishFloat(positive, significand, extra, &out->f);
    }
  } else {
    return ErrorHere(kInvalidNumber);
  }
  const int c = PeekByte();
  if (c == '.') {
    out->kind = JsonNumber::kF64;
    return ParseDecimal(positive, significand, 0, &out->f);
  }
  if (c == 'e' || c == 'E') {
    out->kind = JsonNumber::kF64;
    return ParseExponent(positive, significand, 0, &out->f);
  }
  if (positive) {
    out->kind = JsonNumber::kU64;
    out->u = significand;
    return true;
  }
  const int64_t neg = static_cast<int64_t>(0 - significand);  // wrapping_neg
  if (neg >= 0) {                                             // -0, or below i64::MIN
    out->kind = JsonNumber::kF64;
    out->f = -static_cast<double>(significand);
  } else {
    out->kind = JsonNumber::kI64;
    out->i = neg;
  }
  return true;
}

bool SerdeReader::IgnoreInteger() {
  const int first = PeekByte();
  if (first >= 0) ++pos_;
  if (first == '0') {
    if (IsDigit(PeekByte())) return SyntaxError(kInvalidNumber, true);
  } else if (first >= '1' && first <= '9') {
    while (IsDigit(PeekByte())) ++pos_;
  } else {
    return ErrorHere(kInvalidNumber);
  }
  if (PeekByte() == '.') {
    ++pos_;
    if (!IsDigit(PeekByte())) return SyntaxError(kInvalidNumber, true);
    while (IsDigit(PeekByte())) ++pos_;
  }
  if (PeekByte() == 'e' || PeekByte() == 'E') {
    ++pos_;
    if (PeekByte() == '+' || PeekByte() == '-') ++pos_;
    const int digit = PeekByte();
    if (digit >= 0) ++pos_;
    if (!IsDigit(digit)) return ErrorHere(kInvalidNumber);
    while (IsDigit(PeekByte())) ++pos_;
  }
  return true;
}

bool SerdeReader::ReadF32(float* out) {
  JsonNumber n;
  if (!ReadNumberValue(&n, "f32")) return false;
  switch (n.kind) {
    case JsonNumber::kU64:
      *out = static_cast<float>(n.u);
      break;
    case JsonNumber::kI64:
      *out = static_cast<float>(n.i);
      break;
    case JsonNumber::kF64:
      *out = F64ToF32(n.f);
      break;
  }
  return true;
}

}  // namespace sg::api
