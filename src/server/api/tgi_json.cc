#include "server/api/tgi_json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sg::api {
namespace {

std::string_view ReasonName(FinishReason r) { return FinishReasonName(r); }

void AppendToken(std::string& out, const TokenInfo& t, bool with_special) {
  out += "{\"id\":";
  out += std::to_string(t.id);
  out += ",\"text\":";
  out += JsonString(t.text);
  out += ",\"logprob\":";
  out += FormatF32(t.logprob);
  if (with_special) {
    out += ",\"special\":";
    out += t.special ? "true" : "false";
  }
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

std::string Seed(const GenerationEnd& end) {
  return end.sampled ? std::to_string(end.seed) : "null";
}

// details of one sequence, without best_of_sequences (§1.3 Details / BestOfSequence).
void AppendSequenceDetails(std::string& out, const GeneratedSequence& s, bool with_top) {
  out += "\"finish_reason\":\"";
  out += ReasonName(s.end->finish_reason);
  out += "\",\"generated_tokens\":";
  out += std::to_string(s.end->generated_tokens);
  out += ",\"seed\":";
  out += Seed(*s.end);
  out += ",\"prefill\":";
  AppendTokens(out, s.end->prefill, false);
  out += ",\"tokens\":";
  AppendTokens(out, *s.tokens, true);
  if (with_top) {
    out += ",\"top_tokens\":[";
    for (size_t i = 0; i < s.top_tokens->size(); ++i) {
      if (i) out += ',';
      AppendTokens(out, (*s.top_tokens)[i], true);
    }
    out += ']';
  }
}

}  // namespace

// serde_json writes an f32 with ryu: the shortest digits that round-trip, laid out by ryu's
// rules for f32 (with kk = the decimal exponent of the point): integral up to 13 digits with ".0",
// a point inside up to 13, "0.000ddd" for -6 < kk <= 0, otherwise "d.ddde<exp>".
std::string FormatF32(float v) {
  if (!std::isfinite(v)) return "null";
  if (v == 0.0f) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[48];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  const std::string sci(buf, end);  // [-]d[.ddd]e[+-]XX, shortest round-trip digits
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out += '-';
    i = 1;
  }
  const size_t e = sci.find('e');
  std::string digits;
  for (size_t j = i; j < e; ++j) {
    if (sci[j] != '.') digits += sci[j];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exp10 = std::stoi(sci.substr(e + 1));  // value = d.ddd x 10^exp10
  const int length = static_cast<int>(digits.size());
  const int kk = exp10 + 1;  // 10^(kk-1) <= |v| < 10^kk
  const int k = kk - length;
  if (k >= 0 && kk <= 13) {
    out += digits + std::string(k, '0') + ".0";
  } else if (kk > 0 && kk <= 13) {
    out += digits.substr(0, kk) + "." + digits.substr(kk);
  } else if (kk > -6 && kk <= 0) {
    out += "0." + std::string(-kk, '0') + digits;
  } else {
    out += digits.substr(0, 1);
    if (length > 1) out += "." + digits.substr(1);
    out += "e" + std::to_string(kk - 1);
  }
  return out;
}

std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string ErrorJson(const ApiError& e) {
  return "{\"error\":" + JsonString(e.error) + ",\"error_type\":" + JsonString(e.error_type) + "}";
}

std::string OpenAiStreamErrorJson(const ApiError& e) {
  return "{\"error\":{\"message\":" + JsonString(e.error) + ",\"http_status_code\":422}}";
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
    out += JsonString(request.return_full_text ? request.inputs + end->generated_text
                                               : end->generated_text);
  } else {
    out += "null";
  }
  out += ",\"details\":";
  if (end && request.details) {
    out += "{\"finish_reason\":\"";
    out += ReasonName(end->finish_reason);
    out += "\",\"generated_tokens\":" + std::to_string(end->generated_tokens) +
           ",\"seed\":" + Seed(*end) + ",\"input_length\":" + std::to_string(end->input_length) +
           "}";
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

std::string GenerateResponseJson(const std::vector<GeneratedSequence>& sequences, size_t best,
                                 const ValidRequest& request) {
  const GeneratedSequence& s = sequences[best];
  auto text = [&](const GeneratedSequence& q) {
    return JsonString(request.return_full_text ? request.inputs + q.end->generated_text
                                               : q.end->generated_text);
  };
  std::string out = "{\"generated_text\":" + text(s);
  if (request.details) {
    const bool with_top = request.top_n_tokens > 0;
    out += ",\"details\":{";
    AppendSequenceDetails(out, s, with_top);
    if (sequences.size() > 1) {
      out += ",\"best_of_sequences\":[";
      bool first = true;
      for (size_t i = 0; i < sequences.size(); ++i) {
        if (i == best) continue;
        if (!first) out += ',';
        first = false;
        out += "{\"generated_text\":" + text(sequences[i]) + ",";
        AppendSequenceDetails(out, sequences[i], with_top);
        out += '}';
      }
      out += ']';
    }
    out += '}';
  }
  out += '}';
  return out;
}

std::string TokenizeJson(const Encoding& encoding, std::string_view inputs,
                         const Tokenizer& tokenizer) {
  std::string out = "[";
  for (size_t i = 0; i < encoding.ids.size(); ++i) {
    if (i) out += ',';
    auto [b, e] =
        i < encoding.offsets.size() ? encoding.offsets[i] : std::pair<uint32_t, uint32_t>{0, 0};
    if (b > e || e > inputs.size()) b = e = 0;
    out += "{\"id\":" + std::to_string(encoding.ids[i]) +
           ",\"text\":" + JsonString(inputs.substr(b, e - b)) + ",\"start\":" + std::to_string(b) +
           ",\"stop\":" + std::to_string(e) + "}";
  }
  out += ']';
  return out;
}

std::string Version() { return STREAMGEN_VERSION; }
std::string SystemFingerprint() { return Version() + "-native"; }

std::string InfoJson(const InfoFields& i) {
  return "{\"model_id\":" + JsonString(i.model_id) +
         ",\"model_sha\":null,\"model_pipeline_tag\":null,\"max_concurrent_requests\":" +
         std::to_string(i.max_concurrent_requests) +
         ",\"max_best_of\":" + std::to_string(i.max_best_of) +
         ",\"max_stop_sequences\":" + std::to_string(i.max_stop_sequences) +
         ",\"max_input_tokens\":" + std::to_string(i.max_input_tokens) +
         ",\"max_total_tokens\":" + std::to_string(i.max_total_tokens) +
         ",\"validation_workers\":" + std::to_string(i.validation_workers) +
         ",\"max_client_batch_size\":" + std::to_string(i.max_client_batch_size) +
         ",\"router\":\"streamgen\",\"version\":" + JsonString(Version()) +
         ",\"sha\":null,\"docker_label\":null}";
}

std::string ModelsJson(std::string_view model_id) {
  return "{\"object\":\"list\",\"data\":[{\"id\":" + JsonString(model_id) +
         ",\"object\":\"model\",\"created\":0,\"owned_by\":" + JsonString(model_id) + "}]}";
}

std::string CompletionChunkJson(int64_t created, std::string_view model, int index,
                                std::string_view text, const GenerationEnd* end) {
  std::string out =
      "{\"object\":\"text_completion\",\"id\":\"\",\"created\":" + std::to_string(created);
  if (end)
    out += ",\"model\":" + JsonString(model) +
           ",\"system_fingerprint\":" + JsonString(SystemFingerprint());
  out += ",\"choices\":[{\"index\":" + std::to_string(index) + ",\"text\":" + JsonString(text) +
         ",\"logprobs\":null,\"finish_reason\":";
  out += end ? JsonString(ReasonName(end->finish_reason)) : "\"\"";
  out += "}]";
  if (end) {
    const int32_t p = end->input_length, c = end->generated_tokens;
    out += ",\"usage\":{\"prompt_tokens\":" + std::to_string(p) +
           ",\"completion_tokens\":" + std::to_string(c) +
           ",\"total_tokens\":" + std::to_string(p + c) + "}";
  } else {
    out += ",\"model\":" + JsonString(model) +
           ",\"system_fingerprint\":" + JsonString(SystemFingerprint());
  }
  out += '}';
  return out;
}

std::string CompletionResponseJson(int64_t created, std::string_view model,
                                   const std::vector<CompletionChoice>& choices) {
  std::string out =
      "{\"object\":\"text_completion\",\"id\":\"\",\"created\":" + std::to_string(created) +
      ",\"model\":" + JsonString(model) +
      ",\"system_fingerprint\":" + JsonString(SystemFingerprint()) + ",\"choices\":[";
  int64_t p = 0, c = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    const CompletionChoice& ch = choices[i];
    if (i) out += ',';
    const std::string_view reason =
        ch.reason == FinishReason::kEosToken ? "stop" : ReasonName(ch.reason);
    out += "{\"index\":" + std::to_string(ch.index) + ",\"text\":" + JsonString(ch.text) +
           ",\"logprobs\":null,\"finish_reason\":" + JsonString(reason) + "}";
    p += ch.prompt_tokens;
    c += ch.completion_tokens;
  }
  out += "],\"usage\":{\"prompt_tokens\":" + std::to_string(p) +
         ",\"completion_tokens\":" + std::to_string(c) +
         ",\"total_tokens\":" + std::to_string(p + c) + "}}";
  return out;
}

}  // namespace sg::api
