#include "engine/serving/sequence_state.h"

#include <cmath>
#include <limits>
#include <utility>

namespace sg {
namespace {

// TGI starts the streamed-text window 5 tokens back into the prompt (§3.6).
constexpr size_t kPromptWindow = 5;

bool EndsWithReplacementChar(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}

}  // namespace

SequenceState::SequenceState(uint64_t id_in, GenerationRequest request_in,
                             GenerationCallback callback_in, const Tokenizer& tokenizer,
                             std::span<const int32_t> eos_ids, int32_t vocab_size)
    : id(id_in),
      request(std::move(request_in)),
      callback(std::make_shared<EventTarget>(std::move(callback_in))),
      ids(request.prompt_ids),
      stop(request.stopping, eos_ids),
      detokenizer(tokenizer, /*skip_special_tokens=*/false),
      tokenizer_(tokenizer),
      vocab_size_(vocab_size) {
  const size_t n = request.prompt_ids.size();
  const size_t from = n > kPromptWindow ? n - kPromptWindow : 0;
  detokenizer.SetPrompt(
      std::vector<int32_t>(request.prompt_ids.begin() + from, request.prompt_ids.end()));
  timing.received = request.received;
  ids.reserve(n + request.stopping.max_new_tokens);
}

void SequenceState::StartSampling() {
  if (!sampler) {
    sampler.emplace(request.sampling, vocab_size_, request.prompt_ids,
                    request.stopping.max_new_tokens);
  }
}

// TGI decodes the generated ids with one prompt token of context and skip_special_tokens=true,
// and returns "" for the whole text if it ends in an incomplete UTF-8 sequence (§3.6, §10.33).
std::string SequenceState::GeneratedText() const {
  const size_t n = request.prompt_ids.size();
  std::vector<int32_t> with_context(ids.begin() + (n - 1), ids.end());
  std::string all = tokenizer_.Decode(with_context, /*skip_special_tokens=*/true);
  const std::string prefix = tokenizer_.Decode(std::span<const int32_t>(with_context.data(), 1),
                                               /*skip_special_tokens=*/true);
  std::string text = all.compare(0, prefix.size(), prefix) == 0 ? all.substr(prefix.size()) : all;
  if (EndsWithReplacementChar(text)) text.clear();
  return text;
}

GenerationEvent SequenceState::AcceptToken(const SampledToken& token, std::vector<SampledToken> top,
                                           SteadyTime now) {
  sampler->Accept(token.id);
  ids.push_back(token.id);
  TextPiece piece = detokenizer.Push(token.id);
  GenerationEvent event;
  event.token = TokenInfo{token.id, piece.text, token.logprob, piece.special};
  event.top_tokens.reserve(top.size());
  for (const SampledToken& t : top) {
    event.top_tokens.push_back(
        TokenInfo{t.id, tokenizer_.Decode(std::span<const int32_t>(&t.id, 1), false), t.logprob,
                  tokenizer_.IsSpecial(t.id)});
  }
  std::optional<FinishReason> reason = stop.Push(token.id, piece.text);
  // A complete text that nothing may follow ends the sequence even when the model has no EOS
  // token to say so (the grammar would otherwise mask every token).
  const GrammarMatcher* grammar = sampler->grammar();
  if (!reason && grammar != nullptr && grammar->MustEnd() &&
      grammar->grammar().index().eos_ids().empty()) {
    reason = FinishReason::kEosToken;
  }
  if (reason) {
    timing.finished = now;
    GenerationEnd end;
    end.finish_reason = *reason;
    end.generated_tokens = stop.generated();
    end.generated_text = GeneratedText();
    end.seed = request.sampling.seed;
    end.sampled = request.sampling.do_sample;
    end.input_length = static_cast<int32_t>(request.prompt_ids.size());
    end.cached_tokens = static_cast<int32_t>(cached_tokens);
    end.prefill = std::move(prefill);
    end.timing = timing;
    event.end = std::move(end);
  }
  return event;
}

void SequenceState::AddPrefillLogprobs(int64_t first_position, std::span<const float> rows,
                                       int64_t num_rows, int32_t vocab_size) {
  const int64_t n = prompt_length();
  if (prefill.empty() && first_position == 0) {
    const int32_t id0 = request.prompt_ids[0];
    prefill.push_back({id0, tokenizer_.Decode(std::span<const int32_t>(&id0, 1), false),
                       std::numeric_limits<float>::quiet_NaN(), false});
  }
  for (int64_t r = 0; r < num_rows; ++r) {
    const int64_t pos = first_position + r + 1;  // the prompt position row r predicts
    if (pos >= n) break;
    const int32_t id_at = request.prompt_ids[pos];
    const float logprob = LogSoftmaxAt(rows.subspan(r * vocab_size, vocab_size), id_at);
    prefill.push_back(
        {id_at, tokenizer_.Decode(std::span<const int32_t>(&id_at, 1), false), logprob, false});
  }
}

}  // namespace sg
