// HF `tokenizers` decoders (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, WordPiece,
// BPEDecoder, Sequence): each rewrites the list of token strings (HF's decode_chain); the
// tokenizer concatenates the final list.
// Thread rules: immutable after construction; Decode may run concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/status.h"

namespace sg {

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual void Decode(std::vector<std::string>& tokens) const = 0;
};

// The "decoder" object of a tokenizer.json (not null). Unknown type -> Unimplemented.
StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& j);

// The byte a "<0xNN>" byte-fallback piece names (either case of hex digit, as HF's ByteFallback
// decoder accepts), or -1 for any other piece.
int ByteFallbackByte(std::string_view piece);

}  // namespace sg
