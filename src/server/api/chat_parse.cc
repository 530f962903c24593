// ChatRequest as TGI's serde-derived struct (router/src/lib.rs at v3.3.7); see chat_request.h.
#include <optional>
#include <string>

#include "server/api/chat_request.h"
#include "server/api/serde_struct.h"

namespace sg::api {
namespace {

using Json = nlohmann::ordered_json;

BodyError ToBodyError(const DeError& e) { return BodyError{e.syntax ? 400 : 422, DeErrorText(e)}; }

// A value buffered as serde's Content (depth, UTF-8 and number checks as serde_json), then parsed.
bool ReadRawJson(SerdeReader& r, Json* out) {
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  const size_t start = r.index();
  if (!r.SkipContent()) return false;
  *out = Json::parse(r.input().substr(start, r.index() - start), nullptr,
                     /*allow_exceptions=*/false);
  if (out->is_discarded()) return r.DataError("invalid JSON value");  // not reached: checked above
  return true;
}

std::string InvalidType(const Json& v, std::string_view expected) {
  return "invalid type: " + DescribeValue(v) + ", expected " + std::string(expected);
}

// A shape problem inside a buffered value; the message is serde's, the position the value's end.
using Problem = std::optional<std::string>;

const Json* Member(const Json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// A required String member.
Problem RequiredString(const Json& object, const char* key, std::string* out) {
  const Json* v = Member(object, key);
  if (!v) return "missing field `" + std::string(key) + "`";
  if (!v->is_string()) return InvalidType(*v, "a string");
  *out = v->get<std::string>();
  return std::nullopt;
}

// An Option<String> member (absent or null: unset).
Problem OptionalString(const Json& object, const char* key, std::optional<std::string>* out) {
  const Json* v = Member(object, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) return InvalidType(*v, "a string");
  *out = v->get<std::string>();
  return std::nullopt;
}

// FunctionDefinition {description: Option<String>, name: String, arguments (alias parameters)}.
Problem ReadFunction(const Json& f, ChatTool* out) {
  if (!f.is_object()) return InvalidType(f, "struct FunctionDefinition");
  if (auto p = OptionalString(f, "description", &out->description)) return p;
  if (auto p = RequiredString(f, "name", &out->name)) return p;
  const Json* args = Member(f, "arguments");
  const Json* params = Member(f, "parameters");
  if (args && params) return "duplicate field `arguments`";
  if (!args && !params) return "missing field `arguments`";
  out->arguments = args ? *args : *params;
  return std::nullopt;
}

// Tool {type: String, function: FunctionDefinition}; ToolCall adds `id` (the same shape else).
Problem ReadTool(const Json& t, ChatTool* out, std::string* id) {
  if (!t.is_object()) return InvalidType(t, id ? "struct ToolCall" : "struct Tool");
  if (id) {
    if (auto p = RequiredString(t, "id", id)) return p;
  }
  if (auto p = RequiredString(t, "type", &out->type)) return p;
  const Json* f = Member(t, "function");
  if (!f) return "missing field `function`";
  return ReadFunction(*f, out);
}

// MessageContent: a string, or [MessageChunk] joined (text as is, image_url as Markdown).
bool ContentText(const Json& c, std::string* out) {
  if (c.is_string()) {
    *out = c.get<std::string>();
    return true;
  }
  if (!c.is_array()) return false;
  out->clear();
  for (const Json& chunk : c) {
    if (!chunk.is_object()) return false;
    const Json* type = Member(chunk, "type");
    if (!type || !type->is_string()) return false;
    if (*type == "text") {
      const Json* text = Member(chunk, "text");
      if (!text || !text->is_string()) return false;
      *out += text->get_ref<const std::string&>();
    } else if (*type == "image_url") {
      const Json* image = Member(chunk, "image_url");
      const Json* url = image && image->is_object() ? Member(*image, "url") : nullptr;
      if (!url || !url->is_string()) return false;
      *out += "![](" + url->get<std::string>() + ")";
    } else {
      return false;
    }
  }
  return true;
}

Problem ReadMessage(const Json& m, ChatMessage* out) {
  if (!m.is_object()) return InvalidType(m, "struct Message");
  if (auto p = RequiredString(m, "role", &out->role)) return p;
  std::optional<std::string> name;
  if (auto p = OptionalString(m, "name", &name)) return p;
  // Extensions (TGI ignores these keys): kept only when they are strings.
  if (const Json* v = Member(m, "tool_call_id"); v && v->is_string()) {
    out->tool_call_id = v->get<std::string>();
  }
  if (const Json* v = Member(m, "reasoning_content"); v && v->is_string()) {
    out->reasoning_content = v->get<std::string>();
  }
  // #[serde(untagged)] MessageBody: Content { content } first, then Tool { tool_calls }.
  if (const Json* c = Member(m, "content"); c && ContentText(*c, &out->content)) {
    out->content_body = true;
    return std::nullopt;
  }
  const Json* calls = Member(m, "tool_calls");
  if (calls && calls->is_array()) {
    Json serialized = Json::array();
    std::vector<std::string> ids;
    bool ok = true;
    for (const Json& call : *calls) {
      ChatTool tool;
      std::string id;
      if (ReadTool(call, &tool, &id)) {
        ok = false;
        break;
      }
      ids.push_back(id);
      Json j = ToolJson(tool);
      serialized.push_back(Json{{"id", id}, {"type", j["type"]}, {"function", j["function"]}});
    }
    if (ok) {
      out->tool_call_ids = std::move(ids);
      out->content_body = false;
      out->content = serialized.dump(-1, ' ', false, Json::error_handler_t::replace);
      return std::nullopt;
    }
  }
  return "data did not match any variant of untagged enum MessageBody";
}

// A buffered value checked by CHECK; a problem is reported at the value's end (serde_json fixes a
// visitor's error there, after the container's closer).
template <typename Check>
bool ReadBuffered(SerdeReader& r, Check check) {
  Json value;
  if (!ReadRawJson(r, &value)) return false;
  Problem p = check(value);
  return p ? r.DataError(*p) : true;
}

// A Vec<T> whose elements are buffered and checked one by one (paths "[i]").
template <typename Check>
bool ReadBufferedSeq(SerdeReader& r, Check check) {
  return r.ReadSeq([&] { return ReadBuffered(r, check); });
}

bool ReadMessages(SerdeReader& r, std::vector<ChatMessage>* out) {
  out->clear();
  return ReadBufferedSeq(r, [out](const Json& v) -> Problem {
    ChatMessage m;
    if (Problem p = ReadMessage(v, &m)) return p;
    out->push_back(std::move(m));
    return std::nullopt;
  });
}

bool ReadTools(SerdeReader& r, std::optional<std::vector<ChatTool>>* out) {
  out->reset();
  bool is_null = false;
  if (!r.ReadNull(&is_null)) return false;
  if (is_null) return true;
  std::vector<ChatTool> tools;
  if (!ReadBufferedSeq(r, [&tools](const Json& v) -> Problem {
        ChatTool t;
        if (Problem p = ReadTool(v, &t, nullptr)) return p;
        tools.push_back(std::move(t));
        return std::nullopt;
      })) {
    return false;
  }
  *out = std::move(tools);
  return true;
}

// ToolChoice via #[serde(untagged)] ToolTypeDeserializer { Null, String, TypedChoice }.
bool ReadToolChoice(SerdeReader& r, ChatRequest* c) {
  return ReadBuffered(r, [c](const Json& v) -> Problem {
    c->tool_choice = ToolChoice::kAuto;
    if (v.is_null()) return std::nullopt;
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      if (s == "none") {
        c->tool_choice = ToolChoice::kNone;
      } else if (s == "required") {
        c->tool_choice = ToolChoice::kRequired;
      } else if (s != "auto") {
        c->tool_choice = ToolChoice::kFunction;
        c->tool_choice_name = s;
      }
      return std::nullopt;
    }
    if (v.is_object()) {
      const Json* type = Member(v, "type");
      const Json* f = Member(v, "function");
      const Json* name = f && f->is_object() ? Member(*f, "name") : nullptr;
      if (type && *type == "function" && name && name->is_string()) {
        c->tool_choice = ToolChoice::kFunction;
        c->tool_choice_name = name->get<std::string>();
        return std::nullopt;
      }
    }
    return "data did not match any variant of untagged enum ToolTypeDeserializer";
  });
}

// Option<Vec<String>>, and (our extension) a bare string as one stop sequence.
bool ReadStop(SerdeReader& r, std::vector<std::string>* out) {
  out->clear();
  bool is_null = false;
  if (!r.ReadNull(&is_null)) return false;
  if (is_null) return true;
  // A bare string is a deserialization error, as in TGI (spec 9.1): sequences only.
  return r.ReadStringSeq(out);
}

// Option<Vec<f32>> (logit_bias: typed, then ignored).
bool ReadF32Seq(SerdeReader& r) {
  bool is_null = false;
  if (!r.ReadNull(&is_null)) return false;
  if (is_null) return true;
  return r.ReadSeq([&] {
    float f = 0;
    return r.ReadF32(&f);
  });
}

std::vector<FieldSpec> ChatFields(ChatRequest* c) {
  auto opt_f32 = [](std::optional<float>* f) {
    return [f](SerdeReader& r) { return ReadOptionalF32(r, f); };
  };
  auto max_tokens = [c](SerdeReader& r) { return ReadOptionalU32(r, &c->max_tokens); };
  // Declaration order of TGI's ChatRequest. `model` and `seed` have no serde default (Options:
  // optional in the map form); `messages` is required.
  return {
      {"model", false, true, [c](SerdeReader& r) { return ReadOptionalString(r, &c->model); }},
      {"messages", true, true, [c](SerdeReader& r) { return ReadMessages(r, &c->messages); }},
      {"frequency_penalty", false, false, opt_f32(&c->frequency_penalty)},
      {"logit_bias", false, false, [](SerdeReader& r) { return ReadF32Seq(r); }},
      {"logprobs", false, false,
       [c](SerdeReader& r) {
         std::optional<bool> b;
         if (!ReadOptionalBool(r, &b)) return false;
         c->logprobs = b.value_or(false);
         return true;
       }},
      {"top_logprobs", false, false,
       [c](SerdeReader& r) { return ReadOptionalU32(r, &c->top_logprobs); }},
      {"max_tokens", false, false, max_tokens},
      {"n", false, false,
       [](SerdeReader& r) {
         std::optional<int64_t> n;
         return ReadOptionalU32(r, &n);  // ignored: always one choice
       }},
      {"presence_penalty", false, false, opt_f32(&c->presence_penalty)},
      {"stop", false, false, [c](SerdeReader& r) { return ReadStop(r, &c->stop); }},
      {"stream", false, false, [c](SerdeReader& r) { return r.ReadBool(&c->stream); }},
      {"seed", false, true, [c](SerdeReader& r) { return ReadOptionalU64(r, "u64", &c->seed); }},
      {"temperature", false, false, opt_f32(&c->temperature)},
      {"top_p", false, false, opt_f32(&c->top_p)},
      {"tools", false, false, [c](SerdeReader& r) { return ReadTools(r, &c->tools); }},
      {"tool_prompt", false, false,
       [c](SerdeReader& r) { return ReadOptionalString(r, &c->tool_prompt); }},
      {"tool_choice", false, false, [c](SerdeReader& r) { return ReadToolChoice(r, c); }},
      {"response_format", false, false,
       [c](SerdeReader& r) {
         return ReadOptionalGrammar(r, &c->has_response_format, &c->response_format_type,
                                    &c->response_format_value);
       }},
      {"stream_options", false, false,
       [c](SerdeReader& r) {
         return ReadStruct(r, "StreamOptions",
                           {{"include_usage", false, false,
                             [c](SerdeReader& q) { return q.ReadBool(&c->include_usage); }}});
       }},
      // Not TGI fields (so after its declaration order, for the sequence form).
      {"max_completion_tokens", false, false, max_tokens},  // serde alias of max_tokens
      {"documents", false, false,
       [c](SerdeReader& r) {
         Json d;
         if (!ReadRawJson(r, &d)) return false;
         if (!d.is_null()) c->documents = std::move(d);
         return true;
       }},
  };
}

}  // namespace

Json ToolJson(const ChatTool& tool) {
  Json f;
  f["description"] = tool.description ? Json(*tool.description) : Json(nullptr);
  f["name"] = tool.name;
  // serialize_as_string: the schema's JSON text, as a string.
  f["arguments"] = tool.arguments.dump(-1, ' ', false, Json::error_handler_t::replace);
  Json t;
  t["type"] = tool.type;
  t["function"] = std::move(f);
  return t;
}

std::variant<ChatRequest, BodyError> ParseChatRequest(std::string_view body) {
  SerdeReader r(body);
  ChatRequest req;
  std::vector<FieldSpec> fields = ChatFields(&req);
  if (!ReadStruct(r, "ChatRequest", fields) || !r.End()) return ToBodyError(r.error());
  return req;
}

}  // namespace sg::api
