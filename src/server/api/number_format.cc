#include "server/api/number_format.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace sg::api {
namespace {

// The shortest round-trip decimal of a finite non-zero value: digits without trailing zeros and
// the decimal exponent `e` of the first digit (value = 0.d1d2d3... x 10^(e+1)).
template <typename T>
void ShortestDigits(T v, std::string* digits, int* exp10) {
  char buf[64];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof(buf), std::fabs(v), std::chars_format::scientific);
  (void)ec;                                    // 64 bytes always fit a scientific float/double
  const std::string_view sci(buf, end - buf);  // d[.ddd]e[+-]XX
  const size_t e = sci.find('e');
  digits->clear();
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') *digits += sci[i];
  }
  while (digits->size() > 1 && digits->back() == '0') digits->pop_back();
  *exp10 = std::atoi(std::string(sci.substr(e + 1)).c_str());
}

// ryu's layout (its format32 / format64): positional up to `max_kk` integer digits and down to
// values of 10^min_kk and above, else an exponent without a sign for positive powers.
template <typename T>
void AppendRyu(std::string& out, T v, int max_kk, int min_kk) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  if (std::signbit(v)) out += '-';
  if (v == T{0}) {
    out += "0.0";
    return;
  }
  std::string digits;
  int exp10 = 0;
  ShortestDigits(v, &digits, &exp10);
  const int length = static_cast<int>(digits.size());
  const int kk = exp10 + 1;  // 10^(kk-1) <= |v| < 10^kk
  const int k = kk - length;
  if (k >= 0 && kk <= max_kk) {  // 1234e7 -> 12340000000.0
    out += digits;
    out.append(k, '0');
    out += ".0";
  } else if (kk > 0 && kk <= max_kk) {  // 1234e-2 -> 12.34
    out.append(digits, 0, kk);
    out += '.';
    out.append(digits, kk);
  } else if (kk > min_kk && kk <= 0) {  // 1234e-6 -> 0.001234
    out += "0.";
    out.append(-kk, '0');
    out += digits;
  } else {  // 1e30, 1.234e33, 1.234e-7
    out += digits[0];
    if (length > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += std::to_string(kk - 1);
  }
}

}  // namespace

void AppendF32(std::string& out, float v) { AppendRyu(out, v, 13, -6); }

void AppendF64(std::string& out, double v) { AppendRyu(out, v, 16, -5); }

std::string FormatF32(float v) {
  std::string out;
  AppendF32(out, v);
  return out;
}

std::string FormatF64Display(double v) {
  if (std::isnan(v)) return "NaN";
  std::string out = std::signbit(v) ? "-" : "";
  if (std::isinf(v)) return out + "inf";
  if (v == 0.0) return out + "0";
  std::string digits;
  int exp10 = 0;
  ShortestDigits(v, &digits, &exp10);
  const int length = static_cast<int>(digits.size());
  if (exp10 < 0) {  // 0.000ddd
    out += "0.";
    out.append(-exp10 - 1, '0');
    out += digits;
  } else if (exp10 + 1 >= length) {  // dddd000
    out += digits;
    out.append(exp10 + 1 - length, '0');
  } else {  // dd.ddd
    out.append(digits, 0, exp10 + 1);
    out += '.';
    out.append(digits, exp10 + 1);
  }
  return out;
}

}  // namespace sg::api
