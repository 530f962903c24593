// A piece of text being normalized / pre-tokenized, with the alignment of every byte to the
// ORIGINAL input (HF's NormalizedString, at byte granularity), so that token offsets can be
// reported into the caller's text whatever the pipeline inserted, replaced or removed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg {

struct ByteSpan {
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct NormalizedText {
  std::string text;
  std::vector<ByteSpan> align;  // align[i]: original bytes that produced text[i]
  uint32_t original_begin = 0;  // where this piece starts in the original text

  // TEXT taken verbatim from the original at offset BASE.
  static NormalizedText FromOriginal(std::string_view text, uint32_t base);
  // Bytes [b, e) of this piece as a new piece.
  NormalizedText Slice(size_t b, size_t e) const;
  // Original [begin, end) covered by normalized bytes [b, e); an empty range maps to a point.
  ByteSpan OriginalRange(size_t b, size_t e) const;

  // HF `prepend`: the new bytes align to the first character.
  void Prepend(std::string_view s);
  // Every occurrence of FROM (non-empty) becomes TO, aligned to the replaced bytes.
  void ReplaceAll(std::string_view from, std::string_view to);
};

// Builds a NormalizedText by appending output bytes with their alignment; used by transforms.
class NormalizedBuilder {
 public:
  explicit NormalizedBuilder(size_t reserve) {
    out_.text.reserve(reserve);
    out_.align.reserve(reserve);
  }
  void Append(std::string_view bytes, ByteSpan span) {
    out_.text.append(bytes);
    out_.align.insert(out_.align.end(), bytes.size(), span);
  }
  // Copies SRC bytes [b, e) with their own alignment.
  void Copy(const NormalizedText& src, size_t b, size_t e) {
    out_.text.append(src.text, b, e - b);
    out_.align.insert(out_.align.end(), src.align.begin() + b, src.align.begin() + e);
  }
  NormalizedText Finish(uint32_t original_begin) {
    out_.original_begin = original_begin;
    return std::move(out_);
  }

 private:
  NormalizedText out_;
};

}  // namespace sg
