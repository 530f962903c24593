// libFuzzer target: arbitrary bytes as a chat template through ChatTemplate::Compile, and every
// template that compiles rendered with a small fixed context (messages with tool calls, tools,
// special tokens) under tight limits. Nothing may crash, hang or leak; a render must return text
// within the output limit or an error. Seeds: the 47 real templates of refdata/templates
// (scripts/run_tests.sh copies them into the corpus).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "engine/text/jinja/chat_template.h"

namespace {

const nlohmann::ordered_json& Context() {
  static const auto* ctx = new nlohmann::ordered_json(nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "Hi <|im_end|> {{ x }} caf\u00e9"},
      {"role": "assistant", "content": null, "reasoning_content": "think",
       "tool_calls": [{"id": "call_1", "type": "function",
                       "function": {"name": "f", "arguments": {"a": 1, "b": [true, null]}}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "{\"ok\": 1}"},
      {"role": "user", "content": [{"type": "text", "text": "parts"}]}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "description": "d",
               "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}}],
    "add_generation_prompt": true,
    "bos_token": "<s>",
    "eos_token": "</s>"
  })"));
  return *ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tmpl = sg::ChatTemplate::Compile(source);
  if (!tmpl.ok()) return 0;
  sg::RenderOptions options;
  options.date = sg::RenderDate{2024, 7, 26};
  options.limits.max_output_bytes = 1 << 16;
  options.limits.max_steps = 200000;
  options.limits.max_depth = 32;
  auto out = tmpl->Render(Context(), options);
  if (out.ok() && out->size() > options.limits.max_output_bytes) __builtin_trap();
  return 0;
}
