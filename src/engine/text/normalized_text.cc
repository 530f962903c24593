#include "engine/text/normalized_text.h"

namespace sg {

NormalizedText NormalizedText::FromOriginal(std::string_view text, uint32_t base) {
  NormalizedText n;
  n.text.assign(text);
  n.align.resize(text.size());
  // Each byte aligns to the whole character it belongs to, as HF aligns per character.
  size_t i = 0;
  while (i < text.size()) {
    size_t len = 1;
    unsigned char b = static_cast<unsigned char>(text[i]);
    if (b >= 0xF0) {
      len = 4;
    } else if (b >= 0xE0) {
      len = 3;
    } else if (b >= 0xC0) {
      len = 2;
    }
    if (i + len > text.size()) len = text.size() - i;
    ByteSpan span{base + static_cast<uint32_t>(i), base + static_cast<uint32_t>(i + len)};
    for (size_t k = 0; k < len; ++k) n.align[i + k] = span;
    i += len;
  }
  n.original_begin = base;
  return n;
}

NormalizedText NormalizedText::Slice(size_t b, size_t e) const {
  NormalizedText n;
  n.text.assign(text, b, e - b);
  n.align.assign(align.begin() + b, align.begin() + e);
  n.original_begin = e > b ? align[b].begin : (b < align.size() ? align[b].begin : original_begin);
  return n;
}

ByteSpan NormalizedText::OriginalRange(size_t b, size_t e) const {
  if (align.empty()) return {original_begin, original_begin};
  if (b >= e) {
    uint32_t p = b < align.size() ? align[b].begin : align.back().end;
    return {p, p};
  }
  uint32_t lo = align[b].begin, hi = align[e - 1].end;
  return {lo, hi < lo ? lo : hi};
}

void NormalizedText::Prepend(std::string_view s) {
  if (s.empty()) return;
  ByteSpan span = align.empty() ? ByteSpan{original_begin, original_begin} : align.front();
  text.insert(0, s);
  align.insert(align.begin(), s.size(), span);
}

void NormalizedText::ReplaceAll(std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = text.find(from);
  if (pos == std::string::npos) return;
  NormalizedBuilder b(text.size() + 8);
  size_t prev = 0;
  while (pos != std::string::npos) {
    b.Copy(*this, prev, pos);
    ByteSpan span = OriginalRange(pos, pos + from.size());
    b.Append(to, span);
    prev = pos + from.size();
    pos = text.find(from, prev);
  }
  b.Copy(*this, prev, text.size());
  *this = b.Finish(original_begin);
}

}  // namespace sg
