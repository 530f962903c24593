// The Messages API request (API contract §9.1, §9.2): TGI's ChatRequest read as its axum
// `Json<ChatRequest>` reads it (serde_reader.h): scalar fields with serde's exact errors
// (plain-text 400/422, §4.4); `messages`, `tools`, `tool_choice` and `documents` are buffered as
// JSON values first (serde's untagged/flatten enums buffer them too) and then checked, with serde's
// messages
// ("data did not match any variant of untagged enum MessageBody", "missing field `role`", ...) at
// the position after the value.
//
// Where we deliberately differ from TGI (all only accept more):
// - `stop` may also be a bare string (one stop sequence); TGI's Vec<String> refuses it.
// - A message's `tool_call_id` and `reasoning_content`, and a top-level `documents`, are kept and
//   given to the chat template (TGI drops them: unknown fields / not in its TextMessage).
// Pure; any thread; never throws.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/api/serde_reader.h"
#include "server/api/tgi_request.h"

namespace sg::api {

// One message after TGI's Message -> TextMessage conversion (§9.2).
struct ChatMessage {
  std::string role;
  // Text chunks joined with no separator; image_url chunks as "![](<url>)"; a tool_calls message
  // (no usable `content`) as the JSON of its tool_calls (arguments as a JSON string, TGI's
  // FunctionDefinition serialization).
  std::string content;
  bool content_body = true;  // MessageBody::Content (tool prompts are appended only to those)
  std::optional<std::string> tool_call_id;       // extension: passed to the template
  std::optional<std::string> reasoning_content;  // extension: passed to the template
  std::vector<std::string> tool_call_ids;        // a tool_calls message's ids (the next stream id)
};

// TGI's Tool {"type", "function": {"description"?, "name", "arguments"|"parameters"}}.
struct ChatTool {
  std::string type;
  std::optional<std::string> description;
  std::string name;
  nlohmann::ordered_json arguments;  // the JSON schema, as sent
};

enum class ToolChoice { kAuto, kNone, kRequired, kFunction };

struct ChatRequest {
  std::optional<std::string> model;  // "tgi" or null: the served model answers
  std::vector<ChatMessage> messages;
  std::optional<float> frequency_penalty;
  bool logprobs = false;                // Option<bool>: null = false
  std::optional<int64_t> top_logprobs;  // u32 -> top_n_tokens
  std::optional<int64_t> max_tokens;    // u32 (alias max_completion_tokens)
  std::optional<float> presence_penalty;
  std::vector<std::string> stop;
  bool stream = false;
  std::optional<uint64_t> seed;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<std::vector<ChatTool>> tools;
  std::optional<std::string> tool_prompt;
  ToolChoice tool_choice = ToolChoice::kAuto;
  std::string tool_choice_name;  // kFunction
  bool has_response_format = false;
  std::string response_format_type;                 // as GenerateParameters::grammar_type
  std::string response_format_value;                // as GenerateParameters::grammar_value
  bool include_usage = false;                       // stream_options.include_usage
  std::optional<nlohmann::ordered_json> documents;  // extension (not a TGI field)
};

std::variant<ChatRequest, BodyError> ParseChatRequest(std::string_view body);

// TGI's `grammar` / `response_format` field (Option<GrammarType>), defined in generate_parse.cc:
// *present is false for null; *value is the `value` JSON text as sent.
bool ReadOptionalGrammar(SerdeReader& r, bool* present, std::string* type, std::string* value);

// JSON of one ChatTool as TGI serializes its Tool (for the template and the injected prompt):
// {"type","function":{"description":<string|null>,"name","arguments":"<schema as JSON text>"}}.
nlohmann::ordered_json ToolJson(const ChatTool& tool);

}  // namespace sg::api
