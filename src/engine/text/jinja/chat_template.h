// Hugging Face chat templates rendered as Python transformers renders them: Jinja2's
// ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
// with the globals raise_exception(msg) and strftime_now(fmt), transformers' tojson filter
// (json.dumps with ensure_ascii=False) and the {% generation %} block. Our own engine: no Python,
// no exceptions; every failure is a Status.
//
// Errors (Status messages):
//  - Compile: InvalidArgument "TemplateSyntaxError: <what> (line N)".
//  - Render, the template called raise_exception(msg): InvalidArgument, message exactly msg.
//  - Render, a Python-level error: InvalidArgument "<PythonExceptionName>: <Python's message>",
//    e.g. "TypeError: can only concatenate str (not \"list\") to str",
//    "UndefinedError: 'dict object' has no attribute 'content'".
//  - Render, a limit was hit: ResourceExhausted.
// Thread rules: a ChatTemplate is immutable once compiled; Render may run on any number of
// threads at once. Render never blocks; its run time is bounded by ChatTemplateLimits.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace sg {

namespace jinja {
struct Stmt;
}

struct ChatTemplateLimits {
  size_t max_output_bytes = 1 << 20;  // the rendered text, and any one string or list built
  uint64_t max_steps = 2'000'000;     // loop iterations + calls + (bytes built / 64)
  int max_depth = 100;                // nested macro calls
};

struct RenderDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

struct RenderOptions {
  // The day strftime_now() sees, at 00:00:00; unset: the real local time.
  std::optional<RenderDate> date;
  ChatTemplateLimits limits;
};

class ChatTemplate {
 public:
  // Parses SOURCE (a template as in tokenizer_config.json's chat_template). Not valid UTF-8,
  // a syntax error, or nesting deeper than the parser allows -> InvalidArgument.
  static StatusOr<ChatTemplate> Compile(std::string_view source);

  // Renders with CONTEXT's members as the template's variables (messages, add_generation_prompt,
  // tools, documents, bos_token, ...). Give an ordered_json so that dicts keep their key order
  // (tojson prints them in that order, as Python does); a plain json's objects are sorted.
  StatusOr<std::string> Render(const nlohmann::ordered_json& context,
                               const RenderOptions& options = {}) const;
  StatusOr<std::string> Render(const nlohmann::json& context,
                               const RenderOptions& options = {}) const;

 private:
  struct Compiled;
  explicit ChatTemplate(std::shared_ptr<const Compiled> c) : compiled_(std::move(c)) {}

  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace sg
