// A small Tokenizer with the two decoder pipelines that matter for streaming, so the detokenizer
// is tested without depending on the tokenizer.json loader:
//  - kSentencePiece (llama2): Replace "▁" -> " ", ByteFallback (a run of <0xNN> pieces becomes its
//    text if valid UTF-8, else one U+FFFD per piece), Fuse, Strip one leading space;
//  - kByteLevel (gpt2/llama3): all bytes concatenated, then lossy UTF-8.
// Added special tokens are ids >= kFirstSpecial and are dropped by skip_special_tokens.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "detokenizer_utf8.h"
#include "engine/text/tokenizer.h"

namespace sg::testing {

class FakeTokenizer : public Tokenizer {
 public:
  enum class Kind { kSentencePiece, kByteLevel };

  explicit FakeTokenizer(Kind kind) : kind_(kind) {
    for (int b = 0; b < 256; ++b) {  // ids 0..255: byte pieces
      char buf[8];
      // Byte-level vocabularies spell bytes as characters ("Ġ"), not as "<0xNN>".
      std::snprintf(buf, sizeof(buf), kind == Kind::kSentencePiece ? "<0x%02X>" : "[%02X]", b);
      pieces_.push_back(buf);
    }
    for (const char* p : {"\xE2\x96\x81", "\xE2\x96\x81Hello", "\xE2\x96\x81world", "Hello", ",",
                          "!", "\xE2\x96\x81\xE2\x96\x81", "\xF0\x9F\x98\x80", "\xE4\xBD\xA0",
                          "\xE2\x96\x81\xC3\xA9t\xC3\xA9", "\n", "\xEF\xBF\xBD", "ab",
                          "\xE2\x96\x81"
                          "a"}) {
      pieces_.push_back(p);
    }
    first_special_ = static_cast<int32_t>(pieces_.size());
    pieces_.push_back("<s>");
    pieces_.push_back("</s>");
    pieces_.push_back("<|eot|>");
  }

  Encoding Encode(std::string_view, bool) const override { return {}; }

  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens) const override {
    std::string text, bytes;
    int byte_pieces = 0;
    const auto flush_bytes = [&] {
      if (byte_pieces == 0) return;
      if (IsValidUtf8(bytes)) {
        text += bytes;
      } else {
        for (int i = 0; i < byte_pieces; ++i) text += "\xEF\xBF\xBD";
      }
      bytes.clear();
      byte_pieces = 0;
    };
    for (int32_t id : ids) {
      if (id < 0 || id >= vocab_size()) continue;
      if (IsSpecial(id) && skip_special_tokens) continue;
      if (id < 256) {
        bytes += static_cast<char>(id);
        ++byte_pieces;
        continue;
      } else if (kind_ == Kind::kByteLevel) {
        bytes += pieces_[id];  // byte-level: everything is bytes until the end
        continue;
      }
      flush_bytes();
      const std::string& piece = pieces_[id];
      for (size_t i = 0; i < piece.size(); ++i) {  // Replace("▁", " ")
        if (piece.compare(i, 3, "\xE2\x96\x81") == 0) {
          text += ' ';
          i += 2;
        } else {
          text += piece[i];
        }
      }
    }
    if (kind_ == Kind::kByteLevel) return Utf8Lossy(bytes);
    flush_bytes();
    if (!text.empty() && text[0] == ' ') text.erase(0, 1);  // Strip(" ", 1, 0) after Fuse
    return text;
  }

  int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }
  bool IsSpecial(int32_t id) const override { return id >= first_special_ && id < vocab_size(); }
  std::string_view IdToPiece(int32_t id) const override {
    return id >= 0 && id < vocab_size() ? std::string_view(pieces_[id]) : std::string_view();
  }
  std::optional<int32_t> PieceToId(std::string_view piece) const override {
    for (size_t i = 0; i < pieces_.size(); ++i) {
      if (pieces_[i] == piece) return static_cast<int32_t>(i);
    }
    return std::nullopt;
  }
  const TokenizerSettings& settings() const override { return settings_; }
  int32_t first_special() const { return first_special_; }

 private:
  Kind kind_;
  std::vector<std::string> pieces_;
  int32_t first_special_ = 0;
  TokenizerSettings settings_;
};

}  // namespace sg::testing
