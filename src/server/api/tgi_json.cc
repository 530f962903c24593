#include "server/api/tgi_json.h"

#include <limits>

#include "server/api/number_format.h"
#include "server/api/utf8.h"

namespace sg::api {
namespace {

// Token {"id","text","logprob","special"} or PrefillToken (no "special").
void AppendToken(std::string& out, const TokenInfo& t, bool with_special) {
  out += "{\"id\":";
  out += std::to_string(t.id);
  out += ",\"text\":";
  AppendJsonString(out, t.text);
  out += ",\"logprob\":";
  AppendF32(out, t.logprob);
  if (with_special) out += t.special ? ",\"special\":true" : ",\"special\":false";
  out += '}';
}

void AppendTokens(std::string& out, const std::vector<TokenInfo>& tokens, bool with_special) {
  out += '[';
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) out += ',';
    AppendToken(out, tokens[i], with_special);
  }
  out += ']';
}

void AppendSeed(std::string& out, const GenerationEnd& end) {
  out += end.sampled ? std::to_string(end.seed) : "null";
}

void AppendGeneratedText(std::string& out, const GenerationEnd& end, const ValidRequest& request) {
  AppendJsonString(
      out, request.return_full_text ? request.inputs + end.generated_text : end.generated_text);
}

// finish_reason .. tokens: the fields Details and BestOfSequence share.
void AppendSequenceFields(std::string& out, const GeneratedSequence& s) {
  out += "\"finish_reason\":\"";
  out += FinishReasonName(s.end->finish_reason);
  out += "\",\"generated_tokens\":";
  out += std::to_string(s.end->generated_tokens);
  out += ",\"seed\":";
  AppendSeed(out, *s.end);
  out += ",\"prefill\":";
  AppendTokens(out, s.end->prefill, /*with_special=*/false);
  out += ",\"tokens\":";
  AppendTokens(out, *s.tokens, /*with_special=*/true);
}

// `top_tokens: Vec<Vec<Token>>` with skip_serializing_if = "Vec::is_empty".
void AppendTopTokens(std::string& out, const GeneratedSequence& s) {
  if (!s.top_tokens || s.top_tokens->empty()) return;
  out += ",\"top_tokens\":[";
  for (size_t i = 0; i < s.top_tokens->size(); ++i) {
    if (i) out += ',';
    AppendTokens(out, (*s.top_tokens)[i], true);
  }
  out += ']';
}

}  // namespace

std::string ErrorJson(const ApiError& e) {
  std::string out = "{\"error\":";
  AppendJsonString(out, e.error);
  out += ",\"error_type\":";
  AppendJsonString(out, e.error_type);
  out += '}';
  return out;
}

std::string OpenAiStreamErrorJson(const ApiError& e) {
  std::string out = "{\"error\":{\"message\":";
  AppendJsonString(out, e.error);
  out += ",\"http_status_code\":422}}";
  return out;
}

std::string StreamTokenJson(uint32_t index, const TokenInfo& token,
                            const std::vector<TokenInfo>& top_tokens, bool with_top_tokens,
                            const GenerationEnd* end, const ValidRequest& request) {
  std::string out = "{\"index\":" + std::to_string(index) + ",\"token\":";
  AppendToken(out, token, true);
  if (with_top_tokens && !top_tokens.empty()) {
    out += ",\"top_tokens\":";
    AppendTokens(out, top_tokens, true);
  }
  out += ",\"generated_text\":";
  if (end) {
    AppendGeneratedText(out, *end, request);
  } else {
    out += "null";
  }
  out += ",\"details\":";
  if (end && request.details) {
    out += "{\"finish_reason\":\"";
    out += FinishReasonName(end->finish_reason);
    out += "\",\"generated_tokens\":" + std::to_string(end->generated_tokens) + ",\"seed\":";
    AppendSeed(out, *end);
    out += ",\"input_length\":" + std::to_string(end->input_length) + "}";
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

size_t BestSequence(const std::vector<GeneratedSequence>& sequences) {
  size_t best = 0;
  float best_logprob = std::numeric_limits<float>::lowest();  // Rust's f32::MIN
  for (size_t i = 0; i < sequences.size(); ++i) {
    const std::vector<TokenInfo>& tokens = *sequences[i].tokens;
    float sum = 0.0f;
    for (const TokenInfo& t : tokens) sum += t.logprob;
    const float mean = sum / static_cast<float>(tokens.size());
    if (mean > best_logprob) {
      best = i;
      best_logprob = mean;
    }
  }
  return best;
}

std::string GenerateResponseJson(const std::vector<GeneratedSequence>& sequences, size_t best,
                                 const ValidRequest& request) {
  const GeneratedSequence& s = sequences[best];
  std::string out = "{\"generated_text\":";
  AppendGeneratedText(out, *s.end, request);
  if (request.details) {
    out += ",\"details\":{";
    AppendSequenceFields(out, s);
    if (sequences.size() > 1) {  // Some(best_of_sequences) only for best_of > 1
      out += ",\"best_of_sequences\":[";
      bool first = true;
      for (size_t i = 0; i < sequences.size(); ++i) {
        if (i == best) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"generated_text\":";
        AppendGeneratedText(out, *sequences[i].end, request);
        out += ',';
        AppendSequenceFields(out, sequences[i]);
        AppendTopTokens(out, sequences[i]);
        out += '}';
      }
      out += ']';
    }
    AppendTopTokens(out, s);
    out += '}';
  }
  out += '}';
  return out;
}

std::string CompatResponseJson(const std::string& generate_response_json) {
  return "[" + generate_response_json + "]";
}

std::string TokenizeJson(const Encoding& encoding, std::string_view inputs,
                         const Tokenizer& /*tokenizer*/) {
  const bool with_offsets = encoding.offsets.size() == encoding.ids.size();
  std::string out = "[";
  for (size_t i = 0; i < encoding.ids.size(); ++i) {
    if (i) out += ',';
    size_t start = 0, stop = 0;
    if (with_offsets) {
      start = std::min<size_t>(encoding.offsets[i].first, inputs.size());
      stop = std::min<size_t>(encoding.offsets[i].second, inputs.size());
      if (stop < start) stop = start;
    }
    out += "{\"id\":" + std::to_string(encoding.ids[i]) + ",\"text\":";
    AppendJsonString(out, Utf8Lossy(inputs.substr(start, stop - start)));
    out += ",\"start\":" + std::to_string(start) + ",\"stop\":" + std::to_string(stop) + "}";
  }
  out += ']';
  return out;
}

std::string Version() { return STREAMGEN_VERSION; }

std::string InfoJson(const InfoFields& i) {
  std::string out = "{\"model_id\":";
  AppendJsonString(out, i.model_id);
  out += ",\"model_sha\":null,\"model_pipeline_tag\":null";
  const std::pair<const char*, int64_t> numbers[] = {
      {"max_concurrent_requests", i.max_concurrent_requests},
      {"max_best_of", i.max_best_of},
      {"max_stop_sequences", i.max_stop_sequences},
      {"max_input_tokens", i.max_input_tokens},
      {"max_total_tokens", i.max_total_tokens},
      {"validation_workers", i.validation_workers},
      {"max_client_batch_size", i.max_client_batch_size},
  };
  for (const auto& [name, value] : numbers) {
    out += ",\"";
    out += name;
    out += "\":" + std::to_string(value);
  }
  out += ",\"router\":\"streamgen\",\"version\":";
  AppendJsonString(out, Version());
  out += ",\"sha\":null,\"docker_label\":null";
  if (i.load) {
    const LoadFields& l = *i.load;
    out += ",\"load\":{\"queue_size\":" + std::to_string(l.queue_size) +
           ",\"requests_in_flight\":" + std::to_string(l.requests_in_flight) +
           ",\"kv_blocks_free\":" + std::to_string(l.kv_blocks_free) +
           ",\"kv_blocks_total\":" + std::to_string(l.kv_blocks_total) +
           ",\"kv_blocks_cached\":" + std::to_string(l.kv_blocks_cached) +
           ",\"prefix_caching\":" + (l.prefix_caching ? "true" : "false") +
           ",\"drain_per_second\":" + FormatF64Display(l.drain_per_second) +
           ",\"retry_after\":" + std::to_string(l.retry_after_s) + "}";
  }
  out += "}";
  return out;
}

std::string ModelsJson(std::string_view model_id) {
  std::string out = "{\"object\":\"list\",\"data\":[{\"id\":";
  AppendJsonString(out, model_id);
  out += ",\"object\":\"model\",\"created\":0,\"owned_by\":";
  AppendJsonString(out, model_id);
  out += "}]}";
  return out;
}

}  // namespace sg::api
