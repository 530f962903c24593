// HF `tokenizers` post-processors (TemplateProcessing, ByteLevel, RobertaProcessing,
// BertProcessing, Sequence) for single sequences: the special tokens added around the ids when
// add_special_tokens is set, and ByteLevel's / Roberta's trim_offsets.
// Thread rules: immutable after construction; Process may run concurrently.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "engine/core/status.h"
#include "engine/text/tokenizer.h"

namespace sg {

// The token string of an id (for offset trimming).
using PieceFn = std::function<std::string_view(int32_t)>;

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Rewrites ENC (the model's ids and offsets). HF runs every post-processor on every encoding:
  // offset trimming applies always, special tokens only when ADD_SPECIAL_TOKENS.
  virtual void Process(Encoding& enc, bool add_special_tokens, const PieceFn& piece) const = 0;
};

// The "post_processor" object of a tokenizer.json (not null). Unknown type -> Unimplemented.
StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const nlohmann::json& j);

// transformers' LlamaTokenizerFast.update_post_processor: "[bos] $A [eos]" with each special
// token present only if requested and known.
std::unique_ptr<PostProcessor> MakeBosEosProcessor(std::optional<int32_t> bos,
                                                   std::optional<int32_t> eos);

}  // namespace sg
