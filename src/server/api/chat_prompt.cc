#include "server/api/chat_prompt.h"

#include <algorithm>
#include <cctype>

#include "server/api/chat_tools.h"
#include "server/api/validation.h"

namespace sg::api {
namespace {

using Json = nlohmann::ordered_json;

ApiError TemplateError(std::string_view detail) {
  return ApiError{422, "Template error: " + std::string(detail), "template_error"};
}

// TGI asks minijinja whether `tools` is an undeclared variable of the template; a word match in
// the source is our approximation (a template that only mentions it in a comment or string
// differs: it then gets the tool prompt without the tools' JSON).
bool NamesTools(const std::string& source) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (size_t at = source.find("tools"); at != std::string::npos;
       at = source.find("tools", at + 1)) {
    const bool starts = at == 0 || (!word(source[at - 1]) && source[at - 1] != '.');
    const bool ends = at + 5 == source.size() || !word(source[at + 5]);
    if (starts && ends) return true;
  }
  return false;
}

// Our engine reports raise_exception(msg) as exactly msg and Python-level failures as
// "<Name>Error: ..." (or Exception); minijinja shows the former as "syntax error: msg".
bool IsPythonError(const std::string& msg) {
  const size_t colon = msg.find(": ");
  if (colon == std::string::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i) {
    if (!std::isalnum(static_cast<unsigned char>(msg[i]))) return false;
  }
  const std::string_view name(msg.data(), colon);
  return name.ends_with("Error") || name.ends_with("Exception");
}

// Rust's str::trim_end (Unicode White_Space; the ASCII ones and the common others).
std::string TrimEnd(std::string s) {
  static const char* const kMultiByte[] = {
      "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81",
      "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86",
      "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8",
      "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};
  for (bool again = true; again && !s.empty();) {
    again = false;
    const char c = s.back();
    if (c == ' ' || (c >= '\t' && c <= '\r')) {
      s.pop_back();
      again = true;
      continue;
    }
    for (const char* ws : kMultiByte) {
      const std::string_view w(ws);
      if (s.size() >= w.size() && std::string_view(s).substr(s.size() - w.size()) == w) {
        s.resize(s.size() - w.size());
        again = true;
        break;
      }
    }
  }
  return s;
}

// The 1-based line of the raise_exception call that raised MSG: the call whose argument is the
// literal MSG, else the template's only call; 0 when neither is unique. (minijinja reports the
// line of the failing call: "syntax error: <msg> (in <string>:<line>)".)
int RaiseLine(const std::string& source, const std::string& msg) {
  static constexpr std::string_view kCall = "raise_exception(";
  int calls = 0, call_line = 0, literal = 0, literal_line = 0;
  for (size_t at = source.find(kCall); at != std::string::npos;
       at = source.find(kCall, at + kCall.size())) {
    const int line = 1 + static_cast<int>(std::count(source.begin(), source.begin() + at, '\n'));
    ++calls;
    call_line = line;
    size_t arg = at + kCall.size();
    while (arg < source.size() && (source[arg] == ' ' || source[arg] == '\n')) ++arg;
    if (arg < source.size() && (source[arg] == '\'' || source[arg] == '"')) {
      const char quote = source[arg];
      const std::string lit = std::string(1, quote) + msg + quote;
      if (source.compare(arg, lit.size(), lit) == 0) {
        ++literal;
        literal_line = line;
      }
    }
  }
  if (literal == 1) return literal_line;
  return calls == 1 ? call_line : 0;
}

Json TokenValue(const std::optional<std::string>& token) {
  return token ? Json(*token) : Json(nullptr);
}

}  // namespace

const char kDefaultToolPrompt[] =
    "\nGiven the functions available, please respond with a JSON for a function call with its "
    "proper arguments that best answers the given prompt. Respond in the format {name: function "
    "name, parameters: dictionary of argument name and its value}.Do not use variables.\n";

StatusOr<std::unique_ptr<ChatPrompter>> ChatPrompter::Create(const ChatTemplateSource& source) {
  auto p = std::unique_ptr<ChatPrompter>(new ChatPrompter());
  p->source_ = source;
  auto compile = [&](const std::string& text,
                     const char* which) -> StatusOr<std::optional<Compiled>> {
    if (text.empty()) return std::optional<Compiled>();
    StatusOr<ChatTemplate> t = ChatTemplate::Compile(text);
    if (!t.ok()) {
      return InvalidArgumentError("chat template " + std::string(which) + "(" + source.origin +
                                  "): " + std::string(t.status().message()));
    }
    return std::optional<Compiled>(Compiled{std::move(*t), NamesTools(text), text});
  };
  SG_ASSIGN_OR_RETURN(p->default_, compile(source.default_template, ""));
  return p;
}

std::variant<ChatPrompt, ApiError> ChatPrompter::Apply(const ChatRequest& request,
                                                       std::optional<RenderDate> date) const {
  if (request.has_response_format && request.tools) {
    return ToolError("Grammar and tools are mutually exclusive");
  }
  // ToolGrammar::apply: the tools to use, or none.
  std::vector<ChatTool> tools;
  if (!request.has_response_format && request.tools) {
    switch (request.tool_choice) {
      case ToolChoice::kFunction: {
        const ChatTool* found = nullptr;
        for (const ChatTool& t : *request.tools) {
          if (t.name == request.tool_choice_name) {
            found = &t;
            break;
          }
        }
        if (!found) return ToolError("Tool with name " + request.tool_choice_name + " not found");
        tools.push_back(*found);
        break;
      }
      case ToolChoice::kRequired:
        tools = *request.tools;
        break;
      case ToolChoice::kAuto: {
        tools = *request.tools;
        ChatTool no_tool;
        no_tool.type = "function";
        no_tool.name = "no_tool";
        no_tool.description = "Open ended response with no specific tool selected";
        no_tool.arguments = Json{{"type", "object"}};
        tools.push_back(std::move(no_tool));
        break;
      }
      case ToolChoice::kNone:
        break;
    }
  }
  const bool using_tools = !tools.empty();
  // Only the "default" template of a named list is used, tools or not (TGI, spec 9.2).
  const Compiled* tmpl = default_ ? &*default_ : nullptr;
  if (!tmpl) return TemplateError("template not found");

  std::vector<ChatMessage> messages = request.messages;
  Json tools_json = nullptr;
  if (using_tools) {
    tools_json = Json::array();
    for (const ChatTool& t : tools) tools_json.push_back(ToolJson(t));
    const std::string prompt = request.tool_prompt && !request.tool_prompt->empty()
                                   ? *request.tool_prompt
                                   : std::string(kDefaultToolPrompt);
    const std::string text =
        tmpl->names_tools
            ? "\n---\n" + prompt
            : "\n---\n" + tools_json.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n" +
                  prompt;
    if (!messages.empty() && messages.back().content_body) messages.back().content += text;
  }

  Json context;
  Json msgs = Json::array();
  for (const ChatMessage& m : messages) {
    Json j;
    j["role"] = m.role;
    j["content"] = m.content;
    // {role, content} only, as TGI gives them (spec 9.2: name, tool_call_id not passed).
    msgs.push_back(std::move(j));
  }
  context["messages"] = std::move(msgs);
  context["bos_token"] = TokenValue(source_.bos_token);
  context["eos_token"] = TokenValue(source_.eos_token);
  context["add_generation_prompt"] = true;
  context["tools"] = std::move(tools_json);
  if (request.documents) context["documents"] = *request.documents;

  RenderOptions options;
  options.date = date;
  StatusOr<std::string> rendered = tmpl->tmpl.Render(context, options);
  if (!rendered.ok()) {
    // raise_exception(msg) is a minijinja SyntaxError in TGI, shown with the template's name
    // and the call's line: "syntax error: msg (in <string>:7)". Other failures keep our
    // Python-style message (minijinja's own wording differs).
    const std::string msg(rendered.status().message());
    if (rendered.status().code() != StatusCode::kInvalidArgument || IsPythonError(msg)) {
      return TemplateError(msg);
    }
    const int line = RaiseLine(tmpl->source, msg);
    return TemplateError("syntax error: " + msg +
                         (line ? " (in <string>:" + std::to_string(line) + ")" : ""));
  }
  ChatPrompt out;
  out.text = std::move(*rendered);
  out.using_tools = using_tools;
  if (using_tools) {
    out.tool_grammar = ToolCallSchema(tools).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  if (!messages.empty() && messages.back().role == "assistant") {
    const std::string& content = messages.back().content;
    const size_t at = out.text.rfind(content);
    if (at != std::string::npos) out.text = TrimEnd(out.text.substr(0, at + content.size()));
  }
  return out;
}

GenerateRequest ChatToGenerate(const ChatRequest& c, const ChatPrompt& prompt) {
  GenerateRequest g;
  g.inputs = prompt.text;
  g.has_parameters = true;
  GenerateParameters& p = g.parameters;
  SetOpenAiTemperature(c.temperature, &p);
  if (c.presence_penalty) p.repetition_penalty = *c.presence_penalty + 2.0f;
  p.frequency_penalty = c.frequency_penalty;
  p.top_p = c.top_p;
  p.max_new_tokens = c.max_tokens;
  p.stop = c.stop;
  p.details = true;
  p.seed = c.seed;
  p.top_n_tokens = c.top_logprobs;
  if (prompt.using_tools) {
    p.has_grammar = true;
    p.grammar_type = "json";  // TGI: GrammarType::Json(tool_schema)
    p.grammar_value = prompt.tool_grammar;
  } else if (c.has_response_format) {
    p.has_grammar = true;
    p.grammar_type = c.response_format_type;
    p.grammar_value = c.response_format_value;
  }
  return g;
}

}  // namespace sg::api
