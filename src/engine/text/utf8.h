// UTF-8 helpers of the text layer. Text inside the tokenizer is always valid UTF-8 (Encode
// sanitizes its input first), so the decoders here may assume well-formed sequences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg::utf8 {

// Length of the sequence that starts with lead byte B (1 for a stray byte, so loops advance).
inline size_t SeqLen(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b >> 5) == 0x6) return 2;
  if ((b >> 4) == 0xE) return 3;
  if ((b >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at S[I] (valid UTF-8 assumed) and advances I past it.
inline uint32_t Next(std::string_view s, size_t& i) {
  unsigned char b = static_cast<unsigned char>(s[i]);
  size_t n = SeqLen(b);
  if (n == 1 || i + n > s.size()) {
    ++i;
    return b;
  }
  uint32_t cp = b & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += n;
  return cp;
}

// Decodes the code point that ends at S[I] (exclusive) and moves I to its start.
inline uint32_t Prev(std::string_view s, size_t& i) {
  size_t j = i - 1;
  while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
  size_t k = j;
  uint32_t cp = Next(s, k);
  i = j;
  return cp;
}

inline void Append(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// True if S is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValid(std::string_view s);

// Rust's String::from_utf8_lossy: each maximal invalid subpart becomes one U+FFFD. HF decoders
// end with it, so partial byte pieces decode exactly as the goldens expect.
// With SOURCE, also records for every output byte the input bytes [first, second) it came from
// (a U+FFFD stands for the whole invalid subpart).
std::string Lossy(std::string_view s, std::vector<std::pair<uint32_t, uint32_t>>* source = nullptr);

// Rust's char::is_whitespace (the Unicode White_Space property).
bool IsWhitespace(uint32_t cp);
// Rust's char::is_alphanumeric / is_numeric (Unicode L* and N* categories).
bool IsAlphanumeric(uint32_t cp);
bool IsNumeric(uint32_t cp);
// HF's is_punc: ASCII punctuation or any Unicode P* category.
bool IsPunctuation(uint32_t cp);

}  // namespace sg::utf8
