#include "engine/text/jinja/py_string.h"

#include <utf8proc.h>

#include <algorithm>

#include "engine/text/utf8.h"

namespace sg::jinja::py {
namespace {

bool InSet(uint32_t cp, std::string_view chars) {
  size_t i = 0;
  while (i < chars.size()) {
    if (utf8::Next(chars, i) == cp) return true;
  }
  return false;
}

bool IsCased(uint32_t u) {
  const auto cp = static_cast<utf8proc_int32_t>(u);
  return utf8proc_toupper(cp) != cp || utf8proc_tolower(cp) != cp ||
         utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
}

bool IsUpperCp(uint32_t u) {
  const auto cp = static_cast<utf8proc_int32_t>(u);
  const utf8proc_category_t c = utf8proc_category(cp);
  return c == UTF8PROC_CATEGORY_LU || (c != UTF8PROC_CATEGORY_LT && utf8proc_tolower(cp) != cp);
}

bool IsLowerCp(uint32_t u) {
  const auto cp = static_cast<utf8proc_int32_t>(u);
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_LL || utf8proc_toupper(cp) != cp;
}

template <typename F>
std::string MapCodePoints(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    utf8::Append(f(cp), out);
  }
  return out;
}

uint32_t ToUpper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  return static_cast<uint32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp)));
}
uint32_t ToLower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}
uint32_t ToTitle(uint32_t cp) {
  if (cp < 0x80) return ToUpper(cp);
  return static_cast<uint32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp)));
}

// Splits on whitespace runs, from the left, at most MAXSPLIT times (Python's split()).
std::vector<std::string> SplitWhitespace(std::string_view s, int64_t maxsplit) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    // Skip whitespace.
    size_t j = i;
    while (j < s.size()) {
      size_t k = j;
      if (!IsSpace(utf8::Next(s, k))) break;
      j = k;
    }
    i = j;
    if (i >= s.size()) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      // The rest, with trailing whitespace stripped.
      out.emplace_back(Strip(s.substr(i), std::nullopt, false, true));
      break;
    }
    size_t end = i;
    while (end < s.size()) {
      size_t k = end;
      if (IsSpace(utf8::Next(s, k))) break;
      end = k;
    }
    out.emplace_back(s.substr(i, end - i));
    i = end;
  }
  return out;
}

std::vector<std::string> RSplitWhitespace(std::string_view s, int64_t maxsplit) {
  std::vector<std::string> out;
  size_t end = s.size();
  while (true) {
    size_t j = end;
    while (j > 0) {
      size_t k = j;
      if (!IsSpace(utf8::Prev(s, k))) break;
      j = k;
    }
    end = j;
    if (end == 0) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) >= maxsplit) {
      out.emplace_back(Strip(s.substr(0, end), std::nullopt, true, false));
      break;
    }
    size_t begin = end;
    while (begin > 0) {
      size_t k = begin;
      if (IsSpace(utf8::Prev(s, k))) break;
      begin = k;
    }
    out.emplace_back(s.substr(begin, end - begin));
    end = begin;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

// Python's str.isspace: Unicode White_Space (the tokenizers' utf8::IsWhitespace) plus the
// information separators U+001C..U+001F, which Python counts as whitespace and Unicode does not.
bool IsSpace(uint32_t cp) { return utf8::IsWhitespace(cp) || (cp >= 0x1C && cp <= 0x1F); }

size_t Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<size_t> CodePointOffsets(std::string_view s) {
  std::vector<size_t> out;
  out.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  }
  out.push_back(s.size());
  return out;
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string Upper(std::string_view s) { return MapCodePoints(s, ToUpper); }
std::string Lower(std::string_view s) { return MapCodePoints(s, ToLower); }

std::string Title(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    const bool cased = IsCased(cp);
    utf8::Append(cased ? (prev_cased ? ToLower(cp) : ToTitle(cp)) : cp, out);
    prev_cased = cased;
  }
  return out;
}

std::string Capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  bool first = true;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    utf8::Append(first ? ToTitle(cp) : ToLower(cp), out);
    first = false;
  }
  return out;
}

bool IsLower(std::string_view s) {
  bool cased = false;
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    if (IsUpperCp(cp) ||
        utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_LT) {
      return false;
    }
    if (IsLowerCp(cp)) cased = true;
  }
  return cased;
}

bool IsUpper(std::string_view s) {
  bool cased = false;
  size_t i = 0;
  while (i < s.size()) {
    const uint32_t cp = utf8::Next(s, i);
    if (IsLowerCp(cp) ||
        utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_LT) {
      return false;
    }
    if (IsUpperCp(cp)) cased = true;
  }
  return cased;
}

std::string_view Strip(std::string_view s, const std::optional<std::string_view>& chars, bool left,
                       bool right) {
  auto strip_cp = [&](uint32_t cp) { return chars ? InSet(cp, *chars) : IsSpace(cp); };
  size_t begin = 0;
  size_t end = s.size();
  if (left) {
    while (begin < end) {
      size_t k = begin;
      if (!strip_cp(utf8::Next(s, k))) break;
      begin = k;
    }
  }
  if (right) {
    while (end > begin) {
      size_t k = end;
      if (!strip_cp(utf8::Prev(s, k))) break;
      end = k;
    }
  }
  return s.substr(begin, end - begin);
}

std::vector<std::string> Split(std::string_view s, const std::optional<std::string_view>& sep,
                               int64_t maxsplit) {
  if (!sep) return SplitWhitespace(s, maxsplit);
  std::vector<std::string> out;
  size_t start = 0;
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    const size_t at = s.find(*sep, start);
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(start, at - start));
    start = at + sep->size();
  }
  out.emplace_back(s.substr(start));
  return out;
}

std::vector<std::string> RSplit(std::string_view s, const std::optional<std::string_view>& sep,
                                int64_t maxsplit) {
  if (!sep) return RSplitWhitespace(s, maxsplit);
  std::vector<std::string> out;
  size_t end = s.size();
  while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
    if (end < sep->size()) break;
    const size_t at = s.rfind(*sep, end - sep->size());
    if (at == std::string_view::npos) break;
    out.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
    end = at;
  }
  out.emplace_back(s.substr(0, end));
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Replace(std::string_view s, std::string_view old, std::string_view repl,
                    int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python: the replacement before every code point and at the end.
    int64_t done = 0;
    size_t i = 0;
    while (i <= s.size()) {
      if (count >= 0 && done >= count) {
        out.append(s.substr(i));
        break;
      }
      out.append(repl);
      ++done;
      if (i == s.size()) break;
      size_t k = i;
      utf8::Next(s, k);
      out.append(s.substr(i, k - i));
      i = k;
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(repl);
    start = at + old.size();
    ++done;
  }
  out.append(s.substr(start));
  return out;
}

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t k = i;
    const uint32_t cp = utf8::Next(s, k);
    const bool brk = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C ||
                     cp == 0x1D || cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (brk) {
      out.emplace_back(s.substr(start, i - start));
      if (cp == '\r' && k < s.size() && s[k] == '\n') ++k;
      start = k;
    }
    i = k;
  }
  if (start < s.size()) out.emplace_back(s.substr(start));
  return out;
}

}  // namespace sg::jinja::py
