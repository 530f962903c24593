// The exact bytes each token adds to generated text: what a byte-level constraint (regex, JSON
// Schema) needs to decide whether a token may come next.
//
// Token bytes are derived from the vocabulary's pieces under one of two encodings and then
// checked against the tokenizer's own decoder, token by token:
//   * ByteLevel (GPT-2, Llama-3, Qwen): each character of the piece stands for one byte through
//     GPT-2's byte <-> character table (a piece with a character outside the table, e.g. an added
//     token, stands for its own UTF-8 bytes, as HF's ByteLevel decoder does).
//   * SentencePiece (Llama-2, Mistral, the demo model): "<0xNN>" byte-fallback pieces are the byte
//     NN; in other pieces "▁" (U+2581) is a space.
// The check: Decode({anchor, id}) must equal utf8::Lossy(Decode({anchor}) + bytes), where the
// anchor is a one-letter token (so a Strip decoder or Metaspace's strip of the FIRST token's
// leading space never applies: the bytes are what a token adds in the middle of a stream).
// Decoders that insert text between tokens (WordPiece's spaces, BPEDecoder's "</w>") fail the
// check, and such tokenizers are refused (empty result) rather than approximated.
//
// Leading-space convention: for a tokenizer whose normalizer prepends "▁" (Llama-2, Mistral:
// SentencePiece's add_dummy_prefix), the bytes of Encode(T) concatenate to " " + T; the decoded
// text of a whole reply drops that first space (the Strip decoder), a constraint does not: it sees
// the space. ByteLevel tokenizers and the demo model concatenate to T exactly.
//
// Thread rules: pure function of an immutable tokenizer; any thread. Costs one two-token Decode
// per token (about 0.2 s for Qwen3's 151k vocabulary): call once per loaded model.
#pragma once

#include <string>
#include <vector>

#include "engine/text/tokenizer.h"

namespace sg {

// For every id in [0, tokenizer.vocab_size()): the bytes that token adds to the text in the middle
// of a stream. Empty for tokens a constraint must never allow: special added tokens, the
// settings' bos/eos/pad/unk ids, tokens whose bytes the decoder does not confirm. Returns an EMPTY
// VECTOR when the tokenizer's decoding cannot be expressed as per-token bytes (WordPiece, unknown
// piece encodings): the caller must then refuse constraints for this model.
std::vector<std::string> TokenByteStrings(const Tokenizer& tokenizer);

}  // namespace sg
