#include "server/api/validation.h"

#include <algorithm>

#include "server/api/grammar_request.h"

namespace sg::api {
namespace {

constexpr int64_t kDefaultGenerationLength = 1024;  // TGI's DEFAULT_GENERATION_LENGTH

std::string N(int64_t v) { return std::to_string(v); }
std::string N(uint64_t v) { return std::to_string(v); }

// §3.2 items 1-13, in TGI's order (validation.rs `validate`, before tokenization).
std::optional<ApiError> CheckParameters(const GenerateRequest& request,
                                        const ValidationLimits& limits) {
  const GenerateParameters& p = request.parameters;
  const uint64_t best_of = p.best_of.value_or(1);
  const bool sampling = p.do_sample || p.temperature || p.top_k || p.top_p || p.typical_p;
  if (best_of > 1 && !sampling)
    return ValidationError("you must use sampling when `best_of` is > 1");
  if (!(p.temperature.value_or(1.0f) > 0.0f)) {
    return ValidationError("`temperature` must be strictly positive");
  }
  if (!(p.repetition_penalty.value_or(1.0f) > 0.0f)) {
    return ValidationError("`repetition_penalty` must be strictly positive");
  }
  const float frequency_penalty = p.frequency_penalty.value_or(0.0f);
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f)) {
    return ValidationError("`frequency_penalty` must be >= -2.0 and <= 2.0");
  }
  if (p.top_p && !(*p.top_p > 0.0f && *p.top_p < 1.0f)) {
    return ValidationError("`top_p` must be > 0.0 and < 1.0");
  }
  if (p.typical_p && !(*p.typical_p > 0.0f && *p.typical_p < 1.0f)) {
    return ValidationError("`typical_p` must be > 0.0 and < 1.0");
  }
  if (p.top_k && *p.top_k <= 0) return ValidationError("`top_k` must be strictly positive");
  if (p.max_new_tokens && *p.max_new_tokens == 0) {
    return ValidationError("`max_new_tokens` must be strictly positive");
  }
  if (static_cast<int64_t>(p.stop.size()) > limits.max_stop_sequences) {
    return ValidationError("`stop` supports up to " + N(limits.max_stop_sequences) +
                           " stop sequences. Given: " + N(static_cast<int64_t>(p.stop.size())));
  }
  if (p.seed && best_of > 1) return ValidationError("`seed` must not be set when `best_of` > 1");
  if (p.top_n_tokens && *p.top_n_tokens > limits.max_top_n_tokens) {
    return ValidationError("`top_n_tokens` must be >= 0 and <= " + N(limits.max_top_n_tokens) +
                           ". Given: " + N(*p.top_n_tokens));
  }
  if (request.inputs.empty()) return ValidationError("`inputs` cannot be empty");
  if (p.truncate &&
      (*p.truncate == 0 || *p.truncate > static_cast<uint64_t>(limits.max_input_tokens))) {
    return ValidationError("`truncate` must be strictly positive and less than " +
                           N(limits.max_input_tokens) + ". Given: " + N(*p.truncate));
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> CheckStreamOnly(const GenerateRequest& request) {
  if (request.parameters.best_of.value_or(1) != 1) {
    return ValidationError("`best_of` != 1 is not supported when streaming tokens");
  }
  if (request.parameters.decoder_input_details) {
    return ValidationError(
        "`decoder_input_details` == true is not supported when streaming tokens");
  }
  return std::nullopt;
}

std::optional<ApiError> CheckBestOf(const GenerateRequest& request,
                                    const ValidationLimits& limits) {
  const uint64_t best_of = request.parameters.best_of.value_or(1);
  if (best_of <= 1) return std::nullopt;  // 0 and 1 run one sequence on /generate
  if (limits.max_best_of == 1) {
    return ValidationError("`best_of` != 1 is not allowed for this endpoint");
  }
  if (best_of > static_cast<uint64_t>(limits.max_best_of)) {
    return ValidationError("`best_of` must be > 0 and <= " + N(limits.max_best_of) +
                           ". Given: " + N(best_of));
  }
  return std::nullopt;
}

std::variant<ValidRequest, ApiError> ValidateGenerate(const GenerateRequest& request,
                                                      const Tokenizer& tokenizer,
                                                      const ValidationLimits& limits,
                                                      const ValidateOptions& options,
                                                      const SeedSource& seeds) {
  const GenerateParameters& p = request.parameters;
  if (auto e = options.streaming ? CheckStreamOnly(request) : CheckBestOf(request, limits)) {
    return *e;
  }
  if (auto e = CheckParameters(request, limits)) return *e;

  // Tokenize (add_special_tokens = true but for chat) and keep the last `truncate` ids (left
  // truncation).
  std::vector<int32_t> ids = tokenizer.Encode(request.inputs, options.add_special_tokens).ids;
  if (p.truncate && ids.size() > *p.truncate) ids.erase(ids.begin(), ids.end() - *p.truncate);
  const int64_t input_length = static_cast<int64_t>(ids.size());
  const int64_t budget = std::max<int64_t>(0, limits.max_total_tokens - input_length);
  const int64_t max_new = p.max_new_tokens.value_or(budget);  // null: up to the budget (§3.3)
  const int64_t chunk = std::min(max_new, kDefaultGenerationLength);
  if (input_length + chunk > limits.max_total_tokens) {
    return ValidationError(
        "`inputs` tokens + `max_new_tokens` must be <= " + N(limits.max_total_tokens) +
        ". Given: " + N(input_length) + " `inputs` tokens and " + N(chunk) + " `max_new_tokens`");
  }
  if (input_length > limits.max_input_tokens) {
    return ValidationError("`inputs` must have less than " + N(limits.max_input_tokens) +
                           " tokens. Given: " + N(input_length));
  }
  std::shared_ptr<const Grammar> grammar;
  if (p.has_grammar) {
    auto compiled = CompileGrammar(p.grammar_type, p.grammar_value, limits.grammars);
    if (auto* e = std::get_if<ApiError>(&compiled)) return *e;
    grammar = std::move(std::get<std::shared_ptr<const Grammar>>(compiled));
  }
  if (p.watermark) return ValidationError("`watermark` is not supported");
  if (ids.empty()) return ValidationError("tokenizer error the input encodes to no tokens");

  ValidRequest v;
  v.inputs = request.inputs;
  v.input_length = static_cast<int32_t>(input_length);
  v.details = p.details || p.decoder_input_details;
  v.decoder_input_details = p.decoder_input_details;
  v.return_full_text = p.return_full_text.value_or(options.default_return_full_text);
  v.best_of = static_cast<int>(std::max<uint64_t>(1, p.best_of.value_or(1)));
  v.top_n_tokens = static_cast<int32_t>(p.top_n_tokens.value_or(0));
  v.max_new_tokens_chunk = static_cast<int32_t>(chunk);
  GenerationRequest& g = v.engine;
  g.prompt_ids = std::move(ids);
  SamplingParams& s = g.sampling;
  s.temperature = p.temperature.value_or(1.0f);
  s.top_k = static_cast<int32_t>(p.top_k.value_or(0));
  s.top_p = p.top_p.value_or(1.0f);
  s.typical_p = p.typical_p.value_or(1.0f);
  s.repetition_penalty = p.repetition_penalty.value_or(1.0f);
  s.frequency_penalty = p.frequency_penalty.value_or(0.0f);
  // The backend samples if asked to or if any warper is active (§3.4).
  s.do_sample =
      p.do_sample || s.temperature != 1.0f || s.top_k != 0 || s.top_p < 1.0f || s.typical_p < 1.0f;
  s.seed = p.seed ? *p.seed : (s.do_sample && seeds ? seeds() : 0);
  s.grammar = std::move(grammar);
  // One run up to the budget instead of TGI's 1024-token chunks (see the header).
  g.stopping.max_new_tokens = static_cast<int32_t>(std::max<int64_t>(1, std::min(max_new, budget)));
  g.stopping.stop_sequences = p.stop;
  g.top_n_tokens = v.top_n_tokens;
  g.prefill_logprobs = p.decoder_input_details && limits.enable_prefill_logprobs;
  // The chosen token's logprob is visible in every stream event and in `details`, and best_of
  // ranks by it; a plain /generate answer has only the text, so its greedy tokens skip the softmax.
  g.token_logprob = options.streaming || v.details || v.best_of > 1;
  return v;
}

void SetOpenAiTemperature(std::optional<float> temperature, GenerateParameters* p) {
  if (temperature && *temperature == 0.0f) {
    p->do_sample = false;
  } else {
    p->do_sample = true;
    p->temperature = temperature;
  }
}

std::variant<std::vector<GenerateRequest>, ApiError> CompletionToGenerate(
    const CompletionRequest& c, const ValidationLimits& limits) {
  if (c.has_suffix) return SuffixNotSupportedError();
  if (static_cast<int64_t>(c.prompts.size()) > limits.max_client_batch_size) {
    return BatchSizeExceededError(limits.max_client_batch_size);
  }
  std::vector<GenerateRequest> out;
  for (const std::string& prompt : c.prompts) {
    GenerateRequest g;
    g.inputs = prompt;
    g.has_parameters = true;
    GenerateParameters& p = g.parameters;
    SetOpenAiTemperature(c.temperature, &p);
    p.max_new_tokens = c.max_tokens;
    p.top_p = c.top_p;
    p.repetition_penalty = c.repetition_penalty;
    p.frequency_penalty = c.frequency_penalty;
    p.seed = c.seed;
    p.stop = c.stop;
    p.details = true;
    p.decoder_input_details = !c.stream;
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace sg::api
