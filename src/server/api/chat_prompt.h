// From a ChatRequest to the prompt string and the native request (API contract §9.1-§9.3), in
// TGI's order (ChatRequest::try_into_generate): `response_format` with `tools` -> tool_error;
// the tool set from tool_choice (an unknown name -> tool_error); the chat template (none ->
// "Template error: template not found"; a render failure -> "Template error: ..."); then the
// native parameters (temperature 0 -> greedy, presence_penalty + 2 -> repetition_penalty, ...).
//
// Template context: messages [{role, content}] as TGI's TextMessage (plus our extensions
// tool_call_id / reasoning_content when the client sent them), bos_token / eos_token (strings or
// null, as TGI), unk_token / pad_token when the tokenizer config has them, add_generation_prompt
// true, tools (null or TGI's serialized Tool list), documents when sent.
// Tools: with tool_choice auto a synthetic `no_tool` is added; "\n---\n" + tool_prompt is appended
// to the last message (with the tools' JSON first if the template never names `tools`), and the
// generation is constrained to TGI's tool-call schema (chat_tools.h), compiled at validation like
// any `grammar` (refused with --disable-grammar-support).
// Template choice (transformers, not TGI): the `tool_use` template when tools are passed and the
// model has one, else the default.
// A last assistant message is continued: the prompt is cut after its content, right-trimmed.
// Thread rules: immutable after Create; Apply on any thread concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "engine/core/status.h"
#include "engine/text/chat_template_source.h"
#include "engine/text/jinja/chat_template.h"
#include "server/api/api_error.h"
#include "server/api/chat_request.h"
#include "server/api/tgi_request.h"

namespace sg::api {

struct ChatPrompt {
  std::string text;          // the templated prompt
  bool using_tools = false;  // the generation is a tool call (constrained by tool_grammar)
  std::string tool_grammar;  // using_tools: the tool-call JSON Schema's text (§9.3.3)
};

class ChatPrompter {
 public:
  // Compiles the source's templates; a compile error -> InvalidArgument naming the origin.
  static StatusOr<std::unique_ptr<ChatPrompter>> Create(const ChatTemplateSource& source);

  bool has_template() const { return default_.has_value(); }

  // `date`: what strftime_now() sees (tests); unset: the local time.
  std::variant<ChatPrompt, ApiError> Apply(const ChatRequest& request,
                                           std::optional<RenderDate> date = std::nullopt) const;

 private:
  struct Compiled {
    ChatTemplate tmpl;
    bool names_tools;    // the source mentions `tools` (else tools are injected as text)
    std::string source;  // for the line of a raise_exception call in error messages
  };
  ChatTemplateSource source_;
  std::optional<Compiled> default_;  // a named list's "tool_use" entry is never used (TGI)
};

// The native request TGI builds (add_special_tokens false, details true; the grammar is the tool
// schema when `using_tools`, else the response_format if any).
GenerateRequest ChatToGenerate(const ChatRequest& request, const ChatPrompt& prompt);

// TGI's default tool prompt (§9.1).
extern const char kDefaultToolPrompt[];

}  // namespace sg::api
