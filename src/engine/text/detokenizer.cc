// TGI's incremental detokenization (text_generation_server/models/model.py, decode_token): keep a
// prefix offset and a read offset; decode ids[prefix, read) and ids[prefix, n); when the second
// text is longer and does not end in U+FFFD, emit the difference and slide the window to
// [read, n). Decoding a short window instead of the whole sequence keeps each step O(window).
//
// Why the window difference equals the difference of full decodes: the position-dependent parts
// of HF decoders (Metaspace/Strip dropping the first leading space, WordPiece not prefixing the
// first token) act on the window's first token in both decodes alike, and the window always starts
// at a UTF-8 boundary because a window is only emitted when its text does not end in U+FFFD. Two
// cases are not covered by that argument, so they are handled apart:
//  - the very first window: TGI starts with prefix = read = 0, so it decodes the whole sequence
//    and the first token's leading space is dropped exactly as in Decode(all ids);
//  - a window whose text is not a byte prefix of the longer window's text (a decoder that rewrites
//    across tokens): we switch to decoding all ids (prompt tail included) and emit the
//    difference with what was already emitted, which is exact by construction.
// One decoder breaks the "only a U+FFFD tail can change" rule: HF's ByteFallback turns a run of
// "<0xNN>" pieces into its text only if the whole run is valid UTF-8, so "é" from <0xC3><0xA9>
// becomes three U+FFFD when <0x80> follows. The text of a run of byte pieces is therefore held
// back until a token that is not a byte piece ends the run.
#include "engine/text/detokenizer.h"

#include <algorithm>
#include <span>
#include <string_view>
#include <utility>

namespace sg {
namespace {

// U+FFFD, what a lossy UTF-8 decode makes of incomplete byte sequences.
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
// Prompt ids kept as context in front of the generated ids, as TGI does (prefix = input_len - 5).
constexpr size_t kPromptContext = 5;

bool EndsWithReplacement(std::string_view s) { return s.ends_with(kReplacement); }

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

// "<0xE2>": SentencePiece's byte-fallback pieces, as HF's ByteFallback decoder recognizes them.
bool IsBytePiece(std::string_view piece) {
  return piece.size() == 6 && piece.starts_with("<0x") && IsHexDigit(piece[3]) &&
         IsHexDigit(piece[4]) && piece[5] == '>';
}

// Length of the longest common prefix of a and b, cut back to a UTF-8 boundary of a.
size_t CommonPrefixOnBoundary(std::string_view a, std::string_view b) {
  size_t n = 0;
  const size_t limit = std::min(a.size(), b.size());
  while (n < limit && a[n] == b[n]) ++n;
  while (n > 0 && n < a.size() && (static_cast<unsigned char>(a[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_(skip_special_tokens) {}

void IncrementalDetokenizer::SetPrompt(std::vector<int32_t> prompt_ids) {
  // The tail must decode to some text: a decoder that drops the first leading space (Strip,
  // Metaspace) would otherwise drop the first generated token's space, which the full sequence
  // keeps. Skipped special tokens decode to nothing, so grow the tail past them.
  // Nor may it start inside a run of byte pieces, which ByteFallback judges as a whole.
  size_t keep = std::min(prompt_ids.size(), kPromptContext);
  for (;;) {
    size_t start = prompt_ids.size() - keep;
    while (start > 0 && ContinuesByteRun(prompt_ids[start - 1])) --start;
    keep = prompt_ids.size() - start;
    ids_.assign(prompt_ids.begin() + static_cast<std::ptrdiff_t>(start), prompt_ids.end());
    anchor_text_ = DecodeRange(0, ids_.size());
    if (!anchor_text_.empty() || keep == prompt_ids.size()) break;
    keep = std::min(prompt_ids.size(), keep * 2);
  }
  in_byte_run_ = false;
  prefix_offset_ = 0;
  read_offset_ = ids_.size();
  prefix_text_ = anchor_text_;
  emitted_.clear();
  exact_mode_ = false;
}

bool IncrementalDetokenizer::ContinuesByteRun(int32_t id) const {
  if (id < 0 || id >= tokenizer_.vocab_size()) return true;  // Decode skips it
  if (tokenizer_.IsSpecial(id)) return skip_special_;
  return IsBytePiece(tokenizer_.IdToPiece(id));
}

std::string IncrementalDetokenizer::DecodeRange(size_t begin, size_t end) const {
  const std::span<const int32_t> all(ids_);
  return tokenizer_.Decode(all.subspan(begin, end - begin), skip_special_);
}

TextPiece IncrementalDetokenizer::Push(int32_t id) {
  TextPiece piece;
  piece.special = tokenizer_.IsSpecial(id);
  ids_.push_back(id);
  const bool decoded = id >= 0 && id < tokenizer_.vocab_size() && !(skip_special_ && piece.special);
  if (decoded) in_byte_run_ = IsBytePiece(tokenizer_.IdToPiece(id));
  if (in_byte_run_) return piece;  // Flush or the token ending the run emits it
  if (exact_mode_) {
    piece.text = EmitFromAnchor(/*flush=*/false);
    return piece;
  }
  std::string new_text = DecodeRange(prefix_offset_, ids_.size());
  if (!new_text.starts_with(prefix_text_)) {
    exact_mode_ = true;
    piece.text = EmitFromAnchor(/*flush=*/false);
    return piece;
  }
  if (new_text.size() > prefix_text_.size() && !EndsWithReplacement(new_text)) {
    piece.text = new_text.substr(prefix_text_.size());
    emitted_ += piece.text;
    prefix_offset_ = read_offset_;
    read_offset_ = ids_.size();
    // The new window [old read, n) decoded alone; equal to piece.text unless the window's first
    // token loses a leading space or bytes of it were held back in an earlier window.
    prefix_text_ = DecodeRange(prefix_offset_, read_offset_);
  }
  return piece;
}

std::string IncrementalDetokenizer::Flush() {
  if (read_offset_ == ids_.size() && !exact_mode_) return {};
  if (exact_mode_) return EmitFromAnchor(/*flush=*/true);
  std::string new_text = DecodeRange(prefix_offset_, ids_.size());
  if (!new_text.starts_with(prefix_text_)) {
    exact_mode_ = true;
    return EmitFromAnchor(/*flush=*/true);
  }
  std::string rest = new_text.substr(prefix_text_.size());
  emitted_ += rest;
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  prefix_text_ = DecodeRange(prefix_offset_, read_offset_);
  return rest;
}

std::string IncrementalDetokenizer::EmitFromAnchor(bool flush) {
  const std::string full = DecodeRange(0, ids_.size());
  std::string expected_prefix = anchor_text_ + emitted_;
  std::string out;
  if (full.starts_with(expected_prefix)) {
    if (flush || !EndsWithReplacement(full)) out = full.substr(expected_prefix.size());
  } else if (flush) {
    // Only reachable when the prompt's tail ends inside a UTF-8 sequence that the generation
    // completes: the stream cannot take back text, so emit what differs after the common part.
    out = full.substr(CommonPrefixOnBoundary(full, expected_prefix));
  }
  emitted_ += out;
  return out;
}

}  // namespace sg
