#include "server/api/chat_tools.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include "server/api/json_writer.h"
#include "server/api/number_format.h"
#include "server/api/serde_reader.h"

namespace sg::api {
namespace {

using Json = nlohmann::ordered_json;

// A tool name as one segment of a "#/..." reference: ~ and / escaped as JSON pointers want (RFC
// 6901), % as a URI fragment wants (the engine percent-decodes a reference before splitting it).
std::string PointerSegment(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else if (c == '%') {
      out += "%25";
    } else {
      out += c;
    }
  }
  return out;
}

// serde_json's compact writer (to_string of a Value): keys in their order, strings escaped as
// serde_json does, integers as integers, floats as ryu writes f64.
void AppendSerde(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.items()) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, key);
        out += ':';
        AppendSerde(out, value);
      }
      out += '}';
      return;
    }
    case Json::value_t::array: {
      out += '[';
      for (size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        AppendSerde(out, v[i]);
      }
      out += ']';
      return;
    }
    case Json::value_t::string:
      AppendJsonString(out, v.get_ref<const std::string&>());
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      AppendF64(out, v.get<double>());
      return;
    default:
      out += "null";
      return;
  }
}

// serde_json's Display of an error: "<message> at line L column C" (no position when 0).
std::string SerdeMessage(const DeError& e) {
  std::string msg = e.message;
  if (e.line) msg += " at line " + std::to_string(e.line) + " column " + std::to_string(e.column);
  return msg;
}

// " at line L column C" of byte offset `at` (serde_json's position_of_index).
std::string Position(std::string_view text, size_t at) {
  size_t line = 1, start = 0;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      start = i + 1;
    }
  }
  return " at line " + std::to_string(line) + " column " + std::to_string(at - start);
}

// Where serde_json stands when a Call visitor fails on valid JSON `text`: just past the root value
// (a missing `function`, a root that is no object) and past the `function` member's value (a
// missing or mistyped `_name`: serde fixes a visitor's error after the map's closing brace).
void ValueEnds(std::string_view text, size_t* root_end, size_t* function_end) {
  SerdeReader r(text);
  *root_end = *function_end = text.size();
  int c = 0;
  if (!r.PeekValue(&c)) return;
  if (c != '{' || !r.Enter()) {
    if (r.SkipContent()) *root_end = r.index();
    return;
  }
  r.Eat();
  bool first = true, has = false;
  while (r.HasNextKey(&first, &has) && has) {
    std::string key;
    if (!r.ReadKey(&key) || !r.ParseColon() || !r.SkipContent()) return;
    if (key == "function") *function_end = r.index();
  }
  r.Leave();
  if (r.EndMap()) *root_end = r.index();
}

// TGI's `Call { function: ToolCall { _name: String, #[serde(flatten)] arguments } }`: the
// function object, or the serde message of why `v` is not one.
std::variant<const Json*, std::string> CallFunction(const Json& v) {
  if (!v.is_object()) return "invalid type: " + DescribeValue(v) + ", expected struct Call";
  auto f = v.find("function");
  if (f == v.end()) return std::string("missing field `function`");
  if (!f->is_object()) return "invalid type: " + DescribeValue(*f) + ", expected struct ToolCall";
  auto name = f->find("_name");
  if (name == f->end()) return std::string("missing field `_name`");
  if (!name->is_string()) return "invalid type: " + DescribeValue(*name) + ", expected a string";
  return &*f;
}

// `text` parses as TGI's Call.
bool IsCall(std::string_view text) {
  const Json v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !v.is_discarded() && std::holds_alternative<const Json*>(CallFunction(v));
}

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Rust's str::trim_end for the ASCII whitespace a JSON text can end with.
std::string_view TrimEnd(std::string_view s) {
  while (!s.empty() && (IsWs(s.back()) || s.back() == '\f' || s.back() == '\v')) {
    s.remove_suffix(1);
  }
  return s;
}

// Where the function name stands in a tool-call text written as TGI's grammar writes it:
// `{"function": {"_name": "<name>"` (any JSON whitespace between the tokens).
struct NamePrefix {
  enum Kind { kMore, kFound, kOther } kind = kMore;  // kOther: another shape (TGI's rule applies)
  std::string name;
  size_t end = 0;  // just past the name's closing quote
};

NamePrefix MatchNamePrefix(std::string_view text) {
  static constexpr std::string_view kShape[] = {"{", "\"function\"", ":", "{", "\"_name\"", ":"};
  NamePrefix out;
  size_t i = 0;
  for (std::string_view literal : kShape) {
    while (i < text.size() && IsWs(text[i])) ++i;
    for (char c : literal) {
      if (i == text.size()) return out;  // kMore
      if (text[i++] != c) {
        out.kind = NamePrefix::kOther;
        return out;
      }
    }
  }
  while (i < text.size() && IsWs(text[i])) ++i;
  if (i == text.size()) return out;
  if (text[i] != '"') {
    out.kind = NamePrefix::kOther;
    return out;
  }
  const size_t start = i++;
  while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
  if (i >= text.size()) return out;  // the name's string is still open
  const Json name = Json::parse(text.substr(start, i + 1 - start), nullptr, false);
  if (name.is_discarded() || !name.is_string()) {
    out.kind = NamePrefix::kOther;
    return out;
  }
  out.kind = NamePrefix::kFound;
  out.name = name.get<std::string>();
  out.end = i + 1;
  return out;
}

// TGI's rule: the text without trailing whitespace, commas and braces, plus "}}", parses as a
// Call. Returns the name when it does.
std::optional<std::string> TgiNameRule(std::string_view text) {
  while (!text.empty() && (IsWs(text.back()) || text.back() == ',' || text.back() == '}')) {
    text.remove_suffix(1);
  }
  const Json v = Json::parse(std::string(text) + "}}", nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return std::nullopt;
  auto f = CallFunction(v);
  if (!std::holds_alternative<const Json*>(f)) return std::nullopt;
  return std::get<const Json*>(f)->at("_name").get<std::string>();
}

}  // namespace

Json ToolCallSchema(const std::vector<ChatTool>& tools) {
  Json functions = Json::object();
  Json any_of = Json::array();
  for (const ChatTool& tool : tools) {
    Json params = Json::object();
    params["description"] = tool.description.value_or("");
    Json properties = Json::object();
    properties["_name"] = Json{{"type", "string"}, {"const", tool.name}};
    Json required = Json::array({"_name"});
    if (tool.arguments.is_object()) {
      const Json& args = tool.arguments;
      if (auto p = args.find("properties"); p != args.end() && p->is_object()) {
        for (const auto& [key, value] : p->items()) properties[key] = value;
      }
      if (auto r = args.find("required"); r != args.end() && r->is_array()) {
        for (const Json& item : *r) required.push_back(item);
      }
      // TGI keeps extra properties only for the STRING "true" (a boolean true is ignored).
      auto extra = args.find("additionalProperties");
      params["additionalProperties"] = extra != args.end() && *extra == "true";
    }
    params["properties"] = std::move(properties);
    params["required"] = std::move(required);
    functions[tool.name] = std::move(params);  // a repeated name: the last wins (TGI's HashMap)
    any_of.push_back(Json{{"$ref", "#/$functions/" + PointerSegment(tool.name)}});
  }
  Json schema = Json::object();
  schema["$functions"] = std::move(functions);
  schema["properties"] = Json{{"function", Json{{"anyOf", std::move(any_of)}}}};
  // Not in TGI's schema: without it `{}` satisfies the schema and the answer is a tool_error.
  schema["required"] = Json::array({"function"});
  return schema;
}

std::variant<ParsedToolCall, ApiError> ParseToolCall(std::string_view text) {
  auto fail = [text](const std::string& serde) {
    // TGI: format!("Failed to parse generated text: {} {:?}", e, generated_text).
    return ToolError("Failed to parse generated text: " + serde + " " +
                     DescribeString(text).substr(7));
  };
  SerdeReader r(text);
  if (!r.SkipContent() || !r.End()) return fail(SerdeMessage(r.error()));
  const Json v = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) return fail("invalid JSON");  // not expected: serde accepted it
  auto f = CallFunction(v);
  if (auto* problem = std::get_if<std::string>(&f)) {
    size_t root_end = 0, function_end = 0;
    ValueEnds(text, &root_end, &function_end);
    const bool in_function = problem->find("`_name`") != std::string::npos ||
                             problem->ends_with("expected a string") ||
                             problem->ends_with("expected struct ToolCall");
    return fail(*problem + Position(text, in_function ? function_end : root_end));
  }
  const Json& function = *std::get<const Json*>(f);
  ParsedToolCall out;
  out.call.name = function.at("_name").get<std::string>();
  if (out.call.name == "no_tool") {
    out.no_tool = true;
    return out;
  }
  Json arguments = function;
  arguments.erase("_name");
  AppendSerde(out.call.arguments, arguments);
  return out;
}

std::string NextToolCallId(const std::vector<ChatMessage>& messages,
                           const std::function<uint64_t()>& random) {
  uint64_t next = 0;
  bool integers = true;
  for (const ChatMessage& m : messages) {
    for (const std::string& id : m.tool_call_ids) {
      // Rust's usize::from_str: an optional '+', then at least one digit; overflow fails.
      std::string_view digits = id;
      if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
      uint64_t value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
        integers = false;
        break;
      }
      next = std::max(next, value + 1);  // usize::MAX + 1 wraps as in TGI's release build
    }
    if (!integers) break;
  }
  if (integers) return std::to_string(next);
  uint8_t bytes[16];
  for (int half = 0; half < 2; ++half) {
    const uint64_t bits = random ? random() : 0;
    for (int i = 0; i < 8; ++i) bytes[half * 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0F) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string uuid;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) uuid += '-';
    uuid += kHex[bytes[i] >> 4];
    uuid += kHex[bytes[i] & 0xF];
  }
  return uuid;
}

ToolCallStream::Step ToolCallStream::Push(const TokenInfo& token,
                                          const std::vector<TokenInfo>& top_tokens,
                                          const GenerationEnd* end, const Chunk& chunk,
                                          std::vector<std::string>* out) {
  if (state_ == State::kDone) return Step::kContinue;
  TokenInfo t = token;
  const bool eos = end && token.special;
  if (eos) {
    // The incremental detokenizer can hold a token's text back until the next token (a
    // byte-fallback brace or quote), so the end token's text may carry the JSON's last bytes
    // before its own literal ("}</s>"). The whole decode has them without the special token.
    const std::string& whole = end->generated_text;
    t.text = whole.size() > text_.size() && whole.starts_with(text_) ? whole.substr(text_.size())
                                                                     : std::string();
    t.special = false;
  }
  // As TGI: the end chunk carries no finish_reason in a tool-call stream when the generation
  // ended with EOS (TGI sends nothing for the EOS after the call); after `length` it does.
  const GenerationEnd* finish = eos ? nullptr : end;
  text_ += t.text;
  if (state_ == State::kTool) {
    if (!eos || !t.text.empty()) Arguments(t, top_tokens, finish, chunk, out);
  } else {
    const NamePrefix prefix = MatchNamePrefix(text_);
    std::optional<std::string> name;
    if (prefix.kind == NamePrefix::kFound) {
      name = prefix.name;
    } else if (prefix.kind == NamePrefix::kOther) {
      name = TgiNameRule(text_);
    }
    if (name && *name == "no_tool") return Step::kNoTool;
    if (name) {
      state_ = State::kTool;
      // What followed the name in the text so far (after its comma): arguments too.
      std::string rest;
      if (prefix.kind == NamePrefix::kFound) {
        size_t i = prefix.end;
        while (i < text_.size() && IsWs(text_[i])) ++i;
        if (i < text_.size() && text_[i] == ',') ++i;
        rest = text_.substr(i);
      }
      TokenInfo first = t;
      first.text = "{";
      out->push_back(ChatToolChunkJson(chunk.created, chunk.model, id_, &*name, first, top_tokens,
                                       chunk.logprobs, rest.empty() ? finish : nullptr));
      if (!rest.empty()) {
        TokenInfo fragment = t;
        fragment.text = std::move(rest);
        Arguments(fragment, top_tokens, finish, chunk, out);
      }
    }
  }
  // An EOS before the call was complete (not possible under the tool grammar): TGI sends the
  // special token as an empty content delta with the finish_reason.
  if (eos && state_ == State::kTool) {
    out->push_back(
        ChatChunkJson(chunk.created, chunk.model, token, top_tokens, chunk.logprobs, end));
  }
  return Step::kContinue;
}

void ToolCallStream::Arguments(const TokenInfo& fragment, const std::vector<TokenInfo>& top_tokens,
                               const GenerationEnd* end, const Chunk& chunk,
                               std::vector<std::string>* out) {
  // Only a text ending in '}' can be complete: skip the parse for the others.
  const std::string_view whole = TrimEnd(text_);
  if (!whole.empty() && whole.back() == '}' && IsCall(text_)) {
    // The closing token: without trailing whitespace and the outer object's brace.
    state_ = State::kDone;
    std::string_view text = TrimEnd(fragment.text);
    if (!text.empty() && text.back() == '}') text.remove_suffix(1);
    TokenInfo last = fragment;
    last.text = std::string(text);
    out->push_back(ChatToolChunkJson(chunk.created, chunk.model, id_, nullptr, last, top_tokens,
                                     chunk.logprobs, end));
    return;
  }
  // TGI sends a special token here as an empty content delta, not as arguments.
  out->push_back(fragment.special ? ChatChunkJson(chunk.created, chunk.model, fragment, top_tokens,
                                                  chunk.logprobs, end)
                                  : ChatToolChunkJson(chunk.created, chunk.model, id_, nullptr,
                                                      fragment, top_tokens, chunk.logprobs, end));
}

}  // namespace sg::api
