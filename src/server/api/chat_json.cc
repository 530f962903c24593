#include "server/api/chat_json.h"

#include "server/api/json_writer.h"
#include "server/api/openai_json.h"
#include "server/api/tgi_json.h"

namespace sg::api {

std::string_view ChatFinishReason(FinishReason reason) {
  return reason == FinishReason::kEosToken ? "stop" : FinishReasonName(reason);
}

namespace {

void AppendHead(std::string& out, std::string_view object, int64_t created,
                std::string_view model) {
  out += "{\"object\":\"";
  out += object;
  out += "\",\"id\":\"\",\"created\":" + std::to_string(created) + ",\"model\":";
  AppendJsonString(out, model);
  out += ",\"system_fingerprint\":";
  AppendJsonString(out, SystemFingerprint());
}

void AppendUsage(std::string& out, int64_t prompt, int64_t completion) {
  out += "{\"prompt_tokens\":" + std::to_string(prompt) +
         ",\"completion_tokens\":" + std::to_string(completion) +
         ",\"total_tokens\":" + std::to_string(prompt + completion) + "}";
}

// ChatCompletionLogprob {"token","logprob","top_logprobs":[{"token","logprob"}...]}.
void AppendLogprob(std::string& out, const TokenInfo& token, const std::vector<TokenInfo>* top) {
  out += "{\"token\":";
  AppendJsonString(out, token.text);
  out += ",\"logprob\":";
  AppendF32(out, token.logprob);
  out += ",\"top_logprobs\":[";
  if (top) {
    for (size_t i = 0; i < top->size(); ++i) {
      if (i) out += ',';
      out += "{\"token\":";
      AppendJsonString(out, (*top)[i].text);
      out += ",\"logprob\":";
      AppendF32(out, (*top)[i].logprob);
      out += '}';
    }
  }
  out += "]}";
}

// The rest of a chunk after its delta: logprobs, finish_reason, usage null.
void AppendChunkTail(std::string& out, const TokenInfo& token,
                     const std::vector<TokenInfo>& top_tokens, bool logprobs,
                     const GenerationEnd* end) {
  out += ",\"logprobs\":";
  if (logprobs) {
    out += "{\"content\":[";
    AppendLogprob(out, token, &top_tokens);
    out += "]}";
  } else {
    out += "null";
  }
  out += ",\"finish_reason\":";
  if (end) {
    AppendJsonString(out, ChatFinishReason(end->finish_reason));
  } else {
    out += "null";
  }
  out += "}],\"usage\":null}";
}

}  // namespace

std::string ChatChunkJson(int64_t created, std::string_view model, const TokenInfo& token,
                          const std::vector<TokenInfo>& top_tokens, bool logprobs,
                          const GenerationEnd* end, const std::string* content) {
  std::string out;
  AppendHead(out, "chat.completion.chunk", created, model);
  out += ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":";
  AppendJsonString(out, content         ? std::string_view(*content)
                        : token.special ? std::string_view()
                                        : std::string_view(token.text));
  out += '}';
  AppendChunkTail(out, token, top_tokens, logprobs, end);
  return out;
}

std::string ChatToolChunkJson(int64_t created, std::string_view model, std::string_view id,
                              const std::string* name, const TokenInfo& token,
                              const std::vector<TokenInfo>& top_tokens, bool logprobs,
                              const GenerationEnd* end) {
  std::string out;
  AppendHead(out, "chat.completion.chunk", created, model);
  out += ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{";
  out += "\"index\":0,\"id\":";
  AppendJsonString(out, id);
  out += ",\"type\":\"function\",\"function\":{\"name\":";
  if (name) {
    AppendJsonString(out, *name);
  } else {
    out += "null";
  }
  out += ",\"arguments\":";
  AppendJsonString(out, token.text);
  out += "}}]}";
  AppendChunkTail(out, token, top_tokens, logprobs, end);
  return out;
}

std::string ChatUsageChunkJson(int64_t created, std::string_view model, int64_t prompt_tokens,
                               int64_t completion_tokens) {
  std::string out;
  AppendHead(out, "chat.completion.chunk", created, model);
  out += ",\"choices\":[],\"usage\":";
  AppendUsage(out, prompt_tokens, completion_tokens);
  out += '}';
  return out;
}

std::string ChatCompletionJson(int64_t created, std::string_view model,
                               const std::vector<TokenInfo>& tokens,
                               const std::vector<std::vector<TokenInfo>>& top_tokens, bool logprobs,
                               const GenerationEnd& end, const ChatToolCall* tool_call) {
  std::string out;
  AppendHead(out, "chat.completion", created, model);
  out += ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",";
  if (tool_call) {
    out += "\"tool_calls\":[{\"id\":\"0\",\"type\":\"function\",\"function\":{";
    out += "\"description\":null,\"name\":";
    AppendJsonString(out, tool_call->name);
    out += ",\"arguments\":";
    AppendJsonString(out, tool_call->arguments);
    out += "}}]";
  } else {
    out += "\"content\":";
    AppendJsonString(out, end.generated_text);
  }
  out += "},\"logprobs\":";
  if (logprobs) {
    out += "{\"content\":[";
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ',';
      AppendLogprob(out, tokens[i], i < top_tokens.size() ? &top_tokens[i] : nullptr);
    }
    out += "]}";
  } else {
    out += "null";
  }
  out += ",\"finish_reason\":";
  AppendJsonString(out, ChatFinishReason(end.finish_reason));
  out += "}],\"usage\":";
  AppendUsage(out, end.input_length, end.generated_tokens);
  out += '}';
  return out;
}

std::string ChatTokenizeJson(const Encoding& encoding, std::string_view templated_text,
                             const Tokenizer& tokenizer) {
  std::string out = "{\"tokenize_response\":";
  out += TokenizeJson(encoding, templated_text, tokenizer);
  out += ",\"templated_text\":";
  AppendJsonString(out, templated_text);
  out += '}';
  return out;
}

}  // namespace sg::api
