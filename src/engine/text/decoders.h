// HF `tokenizers` decoders (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, WordPiece,
// BPEDecoder, Sequence): each rewrites the list of token strings (HF's decode_chain); the
// tokenizer concatenates the final list.
// Thread rules: immutable after construction; Decode may run concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
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

}  // namespace sg
