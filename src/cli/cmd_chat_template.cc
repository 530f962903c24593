// `streamgen chat-template`: renders a Jinja chat template as Python transformers does.
//   streamgen chat-template --template FILE --jsonl [--date YYYY-MM-DD] < contexts.jsonl
//     each stdin line is one JSON object, the render context (messages, add_generation_prompt,
//     tools, documents, bos_token, eos_token, any other variables); each output line is
//     {"text": ...} or {"error": ...} (a template that raises, a runtime error, a limit).
//   --date fixes the day strftime_now() sees (at 00:00:00); default: the real local time.
//   streamgen chat-template --model PATH --jsonl ...: the model's own template (found as `serve`
//     finds it) and its bos_token/eos_token, which a line's own values override.
// A template that does not compile is reported once on stderr (exit code 1).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "cli/commands.h"
#include "engine/text/chat_template_source.h"
#include "engine/text/jinja/chat_template.h"

namespace sg::cli {
namespace {

struct ChatTemplateArgs {
  std::string template_path;
  std::string model_path;
  bool jsonl = false;
  std::string date;
};

std::string Dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

StatusOr<RenderDate> ParseDate(const std::string& s) {
  int y = 0, m = 0, d = 0;
  char extra = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 || m > 12 ||
      d < 1 || d > 31 || y < 1 || s.size() != 10) {
    return InvalidArgumentError("--date must be YYYY-MM-DD, got \"" + s + "\"");
  }
  return RenderDate{y, m, d};
}

// Variables every line gets unless it sets them itself (a model's special tokens).
using Defaults = nlohmann::ordered_json;

nlohmann::ordered_json RenderLine(const ChatTemplate& tmpl, const std::string& line,
                                  const RenderOptions& options, const Defaults& defaults) {
  nlohmann::ordered_json out;
  nlohmann::ordered_json ctx =
      nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (ctx.is_discarded() || !ctx.is_object()) {
    out["error"] = "stdin line is not a JSON object";
    return out;
  }
  for (const auto& [key, value] : defaults.items()) {
    if (!ctx.contains(key)) ctx[key] = value;
  }
  StatusOr<std::string> text = tmpl.Render(ctx, options);
  if (text.ok()) {
    out["text"] = *text;
  } else {
    out["error"] = text.status().message();
  }
  return out;
}

Status RunChatTemplate(const ChatTemplateArgs& args) {
  if (!args.jsonl) return InvalidArgumentError("only --jsonl mode exists: give --jsonl");
  if (args.template_path.empty() == args.model_path.empty()) {
    return InvalidArgumentError("give one of --template FILE or --model PATH");
  }
  std::stringstream source;
  Defaults defaults = Defaults::object();
  if (!args.template_path.empty()) {
    std::ifstream in(args.template_path, std::ios::binary);
    if (!in) return IoError("cannot open " + args.template_path);
    source << in.rdbuf();
  } else {
    SG_ASSIGN_OR_RETURN(ChatTemplateSource found, LoadChatTemplateSource(args.model_path, ""));
    if (found.default_template.empty()) {
      return NotFoundError(args.model_path + " has no chat template");
    }
    source << found.default_template;
    if (found.bos_token) defaults["bos_token"] = *found.bos_token;
    if (found.eos_token) defaults["eos_token"] = *found.eos_token;
  }
  RenderOptions options;
  if (!args.date.empty()) {
    SG_ASSIGN_OR_RETURN(RenderDate date, ParseDate(args.date));
    options.date = date;
  }
  SG_ASSIGN_OR_RETURN(ChatTemplate tmpl, ChatTemplate::Compile(source.str()));
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::cout << Dump(RenderLine(tmpl, line, options, defaults)) << "\n";
  }
  std::cout << std::flush;
  return OkStatus();
}

}  // namespace

void RegisterChatTemplate(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ChatTemplateArgs>();
  auto* cmd = app.add_subcommand(
      "chat-template", "Render a Jinja chat template for JSON-lines contexts (as transformers)");
  cmd->add_option("--template", args->template_path, "The template file (.jinja)");
  cmd->add_option("--model", args->model_path,
                  "Use this model's own template and special tokens (GGUF or HF folder)");
  cmd->add_flag("--jsonl", args->jsonl,
                "Read one context object per stdin line, write {\"text\"} or {\"error\"} lines");
  cmd->add_option("--date", args->date, "The day strftime_now() sees, YYYY-MM-DD (00:00:00)");
  cmd->callback([args, exit_code] {
    const Status s = RunChatTemplate(*args);
    if (!s.ok()) {
      std::cerr << "streamgen chat-template: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
