#include "engine/text/token_bytes.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "engine/text/byte_level.h"
#include "engine/text/decoders.h"
#include "engine/text/string_replace.h"
#include "engine/text/utf8.h"

namespace sg {
namespace {

enum class PieceEncoding { kByteLevel, kSentencePiece };

// A scheme is kept when at most this share of the checked tokens disagree with the decoder (the
// disagreeing ones are blanked, so they are never allowed). Real vocabularies disagree on none; a
// wrong scheme disagrees on nearly all.
constexpr double kMaxMismatchShare = 0.01;
// Tokens checked before a scheme is judged on the whole vocabulary (a wrong scheme is dropped
// after this many decodes instead of one per token).
constexpr int32_t kProbeTokens = 512;

// What the piece stands for under `encoding` (before the decoder's check).
std::string CandidateBytes(std::string_view piece, PieceEncoding encoding) {
  std::string out;
  if (encoding == PieceEncoding::kByteLevel) {
    size_t i = 0;
    while (i < piece.size()) {
      const int b = ByteLevelByte(utf8::Next(piece, i));
      if (b < 0) return std::string(piece);  // outside GPT-2's table: the piece's own bytes
      out.push_back(static_cast<char>(b));
    }
    return out;
  }
  if (const int b = ByteFallbackByte(piece); b >= 0) return std::string(1, static_cast<char>(b));
  out.assign(piece);
  ReplaceAllIn(out, "\xE2\x96\x81", " ");
  return out;
}

bool IsAsciiLetter(std::string_view s) {
  return s.size() == 1 && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'));
}

class SchemeCheck {
 public:
  SchemeCheck(const Tokenizer& tokenizer, const std::vector<uint8_t>& control,
              PieceEncoding encoding)
      : tok_(tokenizer), control_(control), encoding_(encoding) {}

  // Candidate bytes of every token, blanking control tokens and those the decoder contradicts;
  // nullopt when the scheme does not describe this tokenizer.
  std::optional<std::vector<std::string>> Run() {
    const int32_t n = tok_.vocab_size();
    std::vector<std::string> bytes(static_cast<size_t>(n));
    for (int32_t id = 0; id < n; ++id) {
      if (!control_[id]) bytes[id] = CandidateBytes(tok_.IdToPiece(id), encoding_);
    }
    if (!FindAnchor(bytes)) return std::nullopt;
    int32_t checked = 0, mismatched = 0;
    for (int32_t id = 0; id < n; ++id) {
      if (bytes[id].empty()) continue;
      ++checked;
      if (!Confirms(id, bytes[id])) {
        ++mismatched;
        bytes[id].clear();
      }
      if (checked == kProbeTokens && mismatched > checked * kMaxMismatchShare) {
        return std::nullopt;
      }
    }
    if (checked == 0 || mismatched > checked * kMaxMismatchShare) return std::nullopt;
    return bytes;
  }

 private:
  // A token whose piece is one ASCII letter and decodes to it on its own: a prefix that no decoder
  // strips or rewrites, so what follows it decodes as it would in the middle of a stream. (Not a
  // "<0xNN>" piece: ByteFallback would judge it together with a following byte piece.)
  bool FindAnchor(const std::vector<std::string>& bytes) {
    for (int32_t id = 0; id < static_cast<int32_t>(bytes.size()); ++id) {
      if (!IsAsciiLetter(bytes[id]) || tok_.IdToPiece(id) != bytes[id]) continue;
      const int32_t one[1] = {id};
      if (tok_.Decode(one, /*skip_special_tokens=*/false) == bytes[id]) {
        anchor_ = id;
        anchor_text_ = bytes[id];
        return true;
      }
    }
    return false;
  }

  // The decoder agrees: anchor + token decodes to the anchor's text + the candidate bytes (lossy
  // UTF-8, as every HF decoder ends: a partial sequence shows as U+FFFD on both sides).
  bool Confirms(int32_t id, const std::string& candidate) {
    const int32_t pair[2] = {anchor_, id};
    const std::string decoded = tok_.Decode(pair, /*skip_special_tokens=*/false);
    expected_.assign(anchor_text_);
    expected_.append(candidate);
    if (utf8::IsValid(expected_)) return decoded == expected_;
    return decoded == utf8::Lossy(expected_);
  }

  const Tokenizer& tok_;
  const std::vector<uint8_t>& control_;
  PieceEncoding encoding_;
  int32_t anchor_ = -1;
  std::string anchor_text_;
  std::string expected_;  // reused buffer
};

}  // namespace

std::vector<std::string> TokenByteStrings(const Tokenizer& tokenizer) {
  const int32_t n = tokenizer.vocab_size();
  if (n <= 0) return {};
  // Tokens never allowed under a constraint: special added tokens and the configured bos, eos,
  // pad and unk (the unk token's text "<unk>" is not what it stands for).
  std::vector<uint8_t> control(static_cast<size_t>(n), 0);
  for (int32_t id = 0; id < n; ++id) control[id] = tokenizer.IsSpecial(id) ? 1 : 0;
  const TokenizerSettings& s = tokenizer.settings();
  for (const std::optional<int32_t>& id :
       {s.bos_token_id, s.eos_token_id, s.pad_token_id, s.unk_token_id}) {
    if (id && *id >= 0 && *id < n) control[*id] = 1;
  }
  for (PieceEncoding encoding : {PieceEncoding::kByteLevel, PieceEncoding::kSentencePiece}) {
    SchemeCheck check(tokenizer, control, encoding);
    if (std::optional<std::vector<std::string>> bytes = check.Run()) return std::move(*bytes);
  }
  return {};
}

}  // namespace sg
