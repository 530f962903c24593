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
  void SetPrompt(std::vector<int32_t> prompt_ids);
  TextPiece Push(int32_t id);
  // Text still held back at the end of the stream (an incomplete UTF-8 tail decodes as U+FFFD).
  std::string Flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::vector<int32_t> ids_;
  size_t prefix_offset_ = 0;
  size_t read_offset_ = 0;
};

}  // namespace sg
