// Replace-all on a plain string (no offset tracking; NormalizedText::ReplaceAll keeps alignment).
// Used by the decoders and by transformers' clean-up rules.
#pragma once

#include <string>
#include <string_view>

namespace sg {

// Replaces every non-overlapping occurrence of `from` in `s`, left to right, like Python's
// str.replace and Rust's String::replace. An empty `from` changes nothing.
inline void ReplaceAllIn(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = s.find(from);
  if (pos == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t prev = 0;
  while (pos != std::string::npos) {
    out.append(s, prev, pos - prev);
    out.append(to);
    prev = pos + from.size();
    pos = s.find(from, prev);
  }
  out.append(s, prev, std::string::npos);
  s.swap(out);
}

}  // namespace sg
