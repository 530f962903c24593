// Where a model's chat template comes from, and the special-token strings the template sees.
// Sources, first found wins:
//   1. the serve flag --chat-template FILE (the whole file is the template);
//   2. chat_template.jinja beside the tokenizer (transformers: "clobbers any template in the
//      config");
//   3. chat_template.json's "chat_template" (TGI reads it before tokenizer_config.json);
//   4. tokenizer_config.json's "chat_template";
//   5. processor_config.json's "chat_template" (TGI's last resort);
//   6. a GGUF file's tokenizer.chat_template.
// A "chat_template" value is a string, or a list of {"name", "template"}: the entry named
// "default" is the template; the one named "tool_use" is read too (transformers would use it for
// requests with tools) but the server, like TGI, never selects it; a list without "default" has
// no default template.
// Special tokens (bos/eos/unk/pad) come from tokenizer_config.json (or the GGUF vocabulary): a
// string, or an AddedToken dict whose "content" is the string; null or absent leaves them unset.
// No HTTP, no rendering: the caller compiles. Pure file reading; any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/core/status.h"

namespace sg {

struct ChatTemplateSource {
  std::string default_template;   // empty: the model has no (default) template
  std::string tool_use_template;  // empty: none; use default_template for requests with tools
  std::string origin;             // where default_template came from (for the startup log)
  std::optional<std::string> bos_token, eos_token, unk_token, pad_token;
};

// The template entries of one "chat_template" value (string or named list) into *out
// (default_template, tool_use_template); false if the value is neither.
bool ReadChatTemplateValue(const nlohmann::json& value, ChatTemplateSource* out);

// MODEL_PATH: a GGUF file, a Hugging Face folder, or a tokenizer.json file (its folder is used).
// OVERRIDE_FILE: --chat-template (empty: none); unreadable -> NotFound/IoError naming it.
// A malformed JSON file that is consulted -> InvalidArgument naming it. No template anywhere is
// not an error (default_template stays empty).
StatusOr<ChatTemplateSource> LoadChatTemplateSource(const std::string& model_path,
                                                    const std::string& override_file);

}  // namespace sg
