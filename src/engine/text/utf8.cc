#include "engine/text/utf8.h"

#include <utf8proc.h>

namespace sg::utf8 {
namespace {

// Length of the longest valid prefix of a sequence at S[I] (0 if the lead byte is invalid) and
// the full length the lead byte announces.
size_t ValidPrefix(std::string_view s, size_t i, size_t* want) {
  unsigned char b = static_cast<unsigned char>(s[i]);
  unsigned char lo = 0x80, hi = 0xBF;
  size_t n;
  if (b < 0x80) {
    *want = 1;
    return 1;
  } else if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    *want = 1;
    return 0;
  }
  *want = n;
  size_t k = 1;
  while (k < n && i + k < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i + k]);
    // Only the second byte has the narrowed range.
    unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (c < l || c > h) break;
    ++k;
  }
  return k;
}

}  // namespace

bool IsValid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t want;
    size_t got = ValidPrefix(s, i, &want);
    if (got != want) return false;
    i += got;
  }
  return true;
}

std::string Lossy(std::string_view s, std::vector<std::pair<uint32_t, uint32_t>>* source) {
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    size_t want;
    size_t got = ValidPrefix(s, i, &want);
    size_t used = got == want ? got : (got == 0 ? 1 : got);
    if (got == want) {
      out.append(s.substr(i, got));
    } else {
      out.append("\xEF\xBF\xBD");
    }
    if (source != nullptr) {
      size_t n = got == want ? got : 3;
      for (size_t k = 0; k < n; ++k) {
        source->emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(i + used));
      }
    }
    i += used;
  }
  return out;
}

bool IsWhitespace(uint32_t cp) {
  if (cp >= 0x9 && cp <= 0xD) return true;
  switch (cp) {
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool IsNumeric(uint32_t cp) {
  utf8proc_category_t c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

bool IsAlphanumeric(uint32_t cp) {
  utf8proc_category_t c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || IsNumeric(cp);
}

bool IsPunctuation(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
  }
  utf8proc_category_t c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

}  // namespace sg::utf8
