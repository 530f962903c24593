// The Messages API bodies byte for byte (API contract §2.4, §9.4-§9.6, §11.2, §11.3): keys in the
// order of TGI's Rust structs with the `object` tag first, `id` always "", system_fingerprint
// "<version>-native", `usage` null on content chunks, finish_reason eos_token -> "stop" (the
// others unchanged), f32 logprobs as serde_json writes them (NaN/inf -> null). Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/serving/generation.h"
#include "engine/text/tokenizer.h"

namespace sg::api {

// TGI's FinishReason::format(true): "stop" for EOS, else the native name.
std::string_view ChatFinishReason(FinishReason reason);

// One content chunk (ChatCompletionChunk with one choice): delta {"role":"assistant","content":
// <token text, "" for a special token>}; logprobs {"content":[{"token","logprob",
// "top_logprobs"}]} when `logprobs`, else null; finish_reason set when `end` is.
// `content`, when given, replaces the content derived from the token (the route's fix for text a
// special token carries before its own, see chat_route.cc).
std::string ChatChunkJson(int64_t created, std::string_view model, const TokenInfo& token,
                          const std::vector<TokenInfo>& top_tokens, bool logprobs,
                          const GenerationEnd* end, const std::string* content = nullptr);

// A tool-call chunk (§9.5): delta {"role":"assistant","tool_calls":[{"index":0,"id":<id>,"type":
// "function","function":{"name":<name, or null when not given>,"arguments":<token.text>}}]}.
// As TGI, `token` is the stream token with its text replaced by the arguments fragment, and its
// logprobs entry (when `logprobs`) shows that text.
std::string ChatToolChunkJson(int64_t created, std::string_view model, std::string_view id,
                              const std::string* name, const TokenInfo& token,
                              const std::vector<TokenInfo>& top_tokens, bool logprobs,
                              const GenerationEnd* end);

// The include_usage chunk: "choices":[] and the usage.
std::string ChatUsageChunkJson(int64_t created, std::string_view model, int64_t prompt_tokens,
                               int64_t completion_tokens);

// A tool call TGI answers (§9.3.4): the function's name and its arguments as compact JSON text.
struct ChatToolCall {
  std::string name;
  std::string arguments;
};

// The non-streamed ChatCompletion: message {"role":"assistant","content":generated_text}, or with
// `tool_call` {"role":"assistant","tool_calls":[{"id":"0","type":"function","function":
// {"description":null,"name","arguments"}}]} (no content key); logprobs one entry per token
// (top_logprobs from `top_tokens[i]`, [] past its end) when `logprobs`, else null; usage from
// `end`.
std::string ChatCompletionJson(int64_t created, std::string_view model,
                               const std::vector<TokenInfo>& tokens,
                               const std::vector<std::vector<TokenInfo>>& top_tokens, bool logprobs,
                               const GenerationEnd& end, const ChatToolCall* tool_call = nullptr);

// POST /chat_tokenize: {"tokenize_response":[<as /tokenize>],"templated_text":...}.
std::string ChatTokenizeJson(const Encoding& encoding, std::string_view templated_text,
                             const Tokenizer& tokenizer);

}  // namespace sg::api
