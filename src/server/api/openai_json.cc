#include "server/api/openai_json.h"

#include "server/api/json_writer.h"

namespace sg::api {
namespace {

void AppendHead(std::string& out, int64_t created) {
  out += "{\"object\":\"text_completion\",\"id\":\"\",\"created\":";
  out += std::to_string(created);
}

void AppendModel(std::string& out, std::string_view model) {
  out += ",\"model\":";
  AppendJsonString(out, model);
  out += ",\"system_fingerprint\":";
  AppendJsonString(out, SystemFingerprint());
}

void AppendChoice(std::string& out, int index, std::string_view text, std::string_view reason) {
  out += "{\"index\":" + std::to_string(index) + ",\"text\":";
  AppendJsonString(out, text);
  out += ",\"logprobs\":null,\"finish_reason\":";
  AppendJsonString(out, reason);
  out += '}';
}

void AppendUsage(std::string& out, int64_t prompt, int64_t completion) {
  out += ",\"usage\":{\"prompt_tokens\":" + std::to_string(prompt) +
         ",\"completion_tokens\":" + std::to_string(completion) +
         ",\"total_tokens\":" + std::to_string(prompt + completion) + "}";
}

}  // namespace

std::string SystemFingerprint() { return std::string(STREAMGEN_VERSION) + "-native"; }

std::string CompletionChunkJson(int64_t created, std::string_view model, int index,
                                std::string_view text, const GenerationEnd* end) {
  std::string out;
  AppendHead(out, created);
  if (end) AppendModel(out, model);
  out += ",\"choices\":[";
  AppendChoice(out, index, text, end ? FinishReasonName(end->finish_reason) : "");
  out += ']';
  if (end) {
    AppendUsage(out, end->input_length, end->generated_tokens);
  } else {
    AppendModel(out, model);
  }
  out += '}';
  return out;
}

std::string CompletionResponseJson(int64_t created, std::string_view model,
                                   const std::vector<CompletionChoice>& choices) {
  std::string out;
  AppendHead(out, created);
  AppendModel(out, model);
  out += ",\"choices\":[";
  int64_t prompt = 0, completion = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    const CompletionChoice& c = choices[i];
    if (i) out += ',';
    AppendChoice(out, c.index, c.text,
                 c.reason == FinishReason::kEosToken ? "stop" : FinishReasonName(c.reason));
    prompt += c.prompt_tokens;
    completion += c.completion_tokens;
  }
  out += ']';
  AppendUsage(out, prompt, completion);
  out += '}';
  return out;
}

}  // namespace sg::api
