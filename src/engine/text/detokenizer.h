// Incremental detokenizer for streaming: fed one generated id at a time, it returns the text that
// id adds. The concatenation of all returned pieces equals Tokenizer::Decode(all ids) exactly; a
// piece never ends inside a UTF-8 sequence (bytes are held back until they complete). Uses TGI's
// prefix/read-offset method (decode a window of ids and emit the difference).
// Thread rules: one instance per sequence, used by one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"

namespace sg {

struct TextPiece {
  std::string text;      // may be empty while bytes are held back
  bool special = false;  // the id is a special added token (TGI streams it with special: true)
};

class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);
  // prompt_ids: context that precedes generation (affects leading-space handling), not emitted.
  // Without a prompt the pieces concatenate to Decode(generated) (what a non-streamed response
  // returns; SentencePiece's Strip decoder drops the first leading space). With a prompt they
  // concatenate to the text the generation adds after the prompt's tail, as TGI streams it:
  // Decode(tail + generated) minus Decode(tail), so a first "▁Hello" streams as " Hello". Call
  // before the first Push.
  void SetPrompt(std::vector<int32_t> prompt_ids);
  // Text is held back while it ends in U+FFFD (an incomplete UTF-8 sequence may still complete)
  // and while the last decoded token is a "<0xNN>" byte piece (see in_byte_run_).
  TextPiece Push(int32_t id);
  // Text still held back at the end of the stream (an incomplete UTF-8 tail decodes as U+FFFD).
  std::string Flush();

 private:
  // Decode(ids_[begin, end)) with this stream's skip setting.
  std::string DecodeRange(size_t begin, size_t end) const;
  // A byte piece, or a token Decode drops: the run of byte pieces may go on across it.
  bool ContinuesByteRun(int32_t id) const;
  // Emits Decode(ids_) minus anchor_text_ minus emitted_, and from then on decodes all of ids_:
  // the exact path when a window's text is not a prefix extension.
  std::string EmitFromAnchor(bool flush);

  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;  // prompt tail, then generated ids
  // Window [prefix_offset_, read_offset_) was emitted; its text alone is prefix_text_.
  size_t prefix_offset_ = 0;
  size_t read_offset_ = 0;
  std::string prefix_text_;
  // The stream's text is Decode(ids_) minus anchor_text_ (the prompt tail's text).
  std::string anchor_text_;
  std::string emitted_;      // everything returned so far (for the exact fallback)
  bool exact_mode_ = false;  // a window failed the prefix check: decode all of ids_
  // The last decoded (not skipped) token is a "<0xNN>" byte-fallback piece: HF's ByteFallback
  // decoder judges a whole run of byte pieces at once (valid UTF-8 -> text, else one U+FFFD per
  // piece), so a run's text is final only when a non-byte token ends it.
  bool in_byte_run_ = false;
};

}  // namespace sg
