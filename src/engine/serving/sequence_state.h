// One request's state inside the engine, as small parts: the token ids, the KV allocation, the
// sampler, the stop criteria, the detokenizer, the timing and the event callback.
// Thread rules: engine thread only (the callback itself runs on the event dispatcher's thread).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/runtime/kv_block_pool.h"
#include "engine/sampling/sampler.h"
#include "engine/sampling/stop_criteria.h"
#include "engine/serving/event_dispatcher.h"
#include "engine/serving/generation.h"
#include "engine/text/detokenizer.h"
#include "engine/text/tokenizer.h"

namespace sg {

struct SequenceState {
  SequenceState(uint64_t id, GenerationRequest request, GenerationCallback callback,
                const Tokenizer& tokenizer, std::span<const int32_t> eos_ids, int32_t vocab_size);

  // The event for a sampled token: texts, logprobs, top-n, stop check; `end` is filled when the
  // sequence stops. Appends the token to ids.
  GenerationEvent AcceptToken(const SampledToken& token, std::vector<SampledToken> top,
                              SteadyTime now);

  // Prompt logprobs from logits rows: row r (vocab floats) predicts position first_position+r+1.
  void AddPrefillLogprobs(int64_t first_position, std::span<const float> rows, int64_t num_rows,
                          int32_t vocab_size);

  int64_t prompt_length() const { return static_cast<int64_t>(request.prompt_ids.size()); }

  // Admission: builds the sampler (penalty counts over the prompt, scratch rows).
  void StartSampling();

  uint64_t id;
  GenerationRequest request;
  // Shared with the event dispatcher's queued deliveries, which may outlive this state.
  std::shared_ptr<EventTarget> callback;
  std::vector<int32_t> ids;  // prompt, then generated ids
  KvAllocation kv;
  // Made when the sequence is admitted (StartSampling), not while it waits: its vocabulary-sized
  // scratch (2 x 4 bytes x vocab, 384 KiB on a 49k vocabulary) would otherwise be held by every
  // queued request, and a thousand waiting streams would cost hundreds of MiB.
  std::optional<Sampler> sampler;
  StopCriteria stop;
  IncrementalDetokenizer detokenizer;
  GenerationTiming timing;
  std::vector<TokenInfo> prefill;  // filled only with request.prefill_logprobs
  bool admitted = false;
  int64_t cached_tokens = 0;  // prompt positions adopted from the prefix cache at admission

 private:
  std::string GeneratedText() const;
  const Tokenizer& tokenizer_;
  int32_t vocab_size_;
};

}  // namespace sg
