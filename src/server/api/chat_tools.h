// Tool calling on the Messages API as TGI does it (API contract §9.3, §9.5, §10.20, §10.31): the
// JSON Schema that constrains a tool-call generation, the parse of a finished one into TGI's
// tool_calls answer, the streamed tool-call id, and the state machine that turns a tool-call
// generation's tokens into TGI's tool-call chunks.
//
// Where we differ from TGI (both only where TGI loses or breaks output):
// - The schema requires `function` at the top (TGI's leaves it optional, so `{}` satisfies it and
//   then fails the parse with a 422 tool_error; small models do write `{}`).
// - The end token's text may carry the JSON's last bytes that the incremental detokenizer held
//   back (a byte-fallback "}" arrives as "}</s>"); TGI appends the special token's text and the
//   call never parses. We take those bytes from the whole decode (generated_text) instead.
// - A tool name is escaped in its "#/$functions/<name>" reference (JSON pointer ~0 ~1, and %25
//   for '%'), so a name with '/', '~' or '%' still resolves.
// - Streaming: TGI detects the function name by trimming the text so far and parsing it with
//   "}}" appended, which can succeed only after later argument text was buffered (when a token
//   runs past the name's closing quote, e.g. `", "`); TGI then drops that text from `arguments`.
//   We detect the name as soon as its string closes (when the text starts as TGI's grammar makes
//   it, `{"function": {"_name": "..."`) and send what followed it in the same chunk series: the
//   first chunk's arguments are "{" as TGI's, then, if the buffered text went past the name, one
//   more chunk with that text. With a token boundary right after the name's comma (TGI's test
//   shapes) the chunks are exactly TGI's. Text of any other shape falls back to TGI's rule.
// Pure; any thread; ToolCallStream is one per stream, used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/serving/generation.h"
#include "server/api/api_error.h"
#include "server/api/chat_json.h"
#include "server/api/chat_request.h"

namespace sg::api {

// §9.3.3: {"$functions": {<name>: {"description", "additionalProperties", "properties": {"_name":
// {"type":"string","const":<name>}, <the tool's properties...>}, "required": ["_name", <the
// tool's required...>]}}, "properties": {"function": {"anyOf": [{"$ref": "#/$functions/<name>"}
// ...]}}, "required": ["function"]}. `tools` as chosen by tool_choice (auto: `no_tool` last).
nlohmann::ordered_json ToolCallSchema(const std::vector<ChatTool>& tools);

// §9.3.4 (TGI's chat::parse_output): the generated text as {"function": {"_name": ..., args...}}.
struct ParsedToolCall {
  bool no_tool = false;  // the model chose `no_tool` (auto): generate again without tools
  ChatToolCall call;     // otherwise: the name, and the other keys as compact JSON in their order
};
// Errors: 422 tool_error "Tool error: Failed to parse generated text: <serde error> <text as Rust
// Debug>".
std::variant<ParsedToolCall, ApiError> ParseToolCall(std::string_view generated_text);

// §9.5: "0" without earlier tool calls, else max(earlier integer ids) + 1; a random UUIDv4 when
// an earlier id is not an unsigned integer. `random` supplies the UUID's bits.
std::string NextToolCallId(const std::vector<ChatMessage>& messages,
                           const std::function<uint64_t()>& random);

// The stream of a tool-call generation (§9.5): nothing until the function's name is known, then
// the first chunk (name, arguments "{"), then each token's text as an arguments fragment, the
// token that completes the JSON without its outer "}", and nothing after it (no finish_reason
// chunk unless the generation ends before the JSON is complete). The caller sends the
// include_usage chunk and `data: [DONE]` at the end, as for content streams.
class ToolCallStream {
 public:
  explicit ToolCallStream(std::string id) : id_(std::move(id)) {}

  struct Chunk {  // what a chunk needs besides the token
    int64_t created = 0;
    std::string_view model;
    bool logprobs = false;
  };
  enum class Step { kContinue, kNoTool };

  // One generated token (`end` set on the last one): appends the chunk payloads to send to
  // `out`. kNoTool: the model chose `no_tool`; nothing was appended and the stream is over.
  Step Push(const TokenInfo& token, const std::vector<TokenInfo>& top_tokens,
            const GenerationEnd* end, const Chunk& chunk, std::vector<std::string>* out);

 private:
  enum class State { kBuffering, kTool, kDone };
  // A fragment that arrived in the kTool state (its text already in text_).
  void Arguments(const TokenInfo& fragment, const std::vector<TokenInfo>& top_tokens,
                 const GenerationEnd* end, const Chunk& chunk, std::vector<std::string>* out);

  std::string id_;
  State state_ = State::kBuffering;
  std::string text_;  // everything generated so far
};

}  // namespace sg::api
