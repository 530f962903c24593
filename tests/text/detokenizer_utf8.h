// UTF-8 helpers for the detokenizer tests, written from the Unicode standard (table 3-7) rather
// than taken from the code under test: a strict validator and Rust's String::from_utf8_lossy
// (each maximal invalid subpart becomes one U+FFFD), which is what HF `tokenizers` applies.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sg::testing {

// At s[i]: the length of the well-formed sequence starting there (> 0) or, negated, the length of
// the maximal invalid subpart (< 0, at least one byte).
inline int Utf8Step(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  int need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  int got = 0;
  for (int k = 1; k <= need; ++k) {
    if (i + k >= s.size()) return -(1 + got);
    const unsigned char x = b(i + k);
    const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (x < l || x > h) return -(1 + got);
    ++got;
  }
  return 1 + need;
}

inline bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const int step = Utf8Step(s, i);
    if (step < 0) return false;
    i += static_cast<size_t>(step);
  }
  return true;
}

inline std::string Utf8Lossy(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const int step = Utf8Step(s, i);
    if (step > 0) {
      out.append(s.substr(i, static_cast<size_t>(step)));
      i += static_cast<size_t>(step);
    } else {
      out += "\xEF\xBF\xBD";
      i += static_cast<size_t>(-step);
    }
  }
  return out;
}

}  // namespace sg::testing
