#include "server/api/tgi_request.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace sg::api {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 128;  // serde_json's recursion limit

constexpr std::string_view kShape = "Failed to deserialize the JSON body into the target type: ";

// Line and column (1-based) of byte offset `pos`.
std::string Where(std::string_view body, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < body.size(); ++i) {
    if (body[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return " at line " + std::to_string(line) + " column " + std::to_string(col);
}

// Nesting deeper than serde's limit is a syntax error (400) before nlohmann builds anything.
std::optional<BodyError> CheckDepth(std::string_view body) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) {
        return BodyError{400, "Failed to parse the request body as JSON: recursion limit exceeded" +
                                  Where(body, i + 1)};
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

std::variant<json, BodyError> ParseJson(std::string_view body) {
  if (auto e = CheckDepth(body)) return *e;
  try {
    return json::parse(body.begin(), body.end());
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const size_t colon = what.find(": ", what.find("parse error"));
    std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
    return BodyError{400, "Failed to parse the request body as JSON: " + detail +
                              Where(body, e.byte > 0 ? e.byte - 1 : 0)};
  } catch (const std::exception& e) {
    return BodyError{400, std::string("Failed to parse the request body as JSON: ") + e.what()};
  }
}

std::string Describe(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "boolean `" + v.dump() + "`";
    case json::value_t::string:
      return "string " + v.dump();
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer `" + v.dump() + "`";
    case json::value_t::number_float:
      return "floating point `" + v.dump() + "`";
    case json::value_t::array:
      return "sequence";
    case json::value_t::object:
      return "map";
    default:
      return "value";
  }
}

// Reads fields of one object, recording the first shape error.
class Reader {
 public:
  Reader(const json& obj, std::string path, std::optional<BodyError>* error)
      : obj_(obj), path_(std::move(path)), error_(error) {}

  const json* Get(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  void Fail(const char* key, const std::string& what) {
    if (*error_) return;
    std::string p = path_.empty() ? key : path_ + "." + key;
    *error_ = BodyError{422, std::string(kShape) + p + ": " + what};
  }

  // Option<float>: absent or null = unset.
  void Float(const char* key, std::optional<float>* out) {
    const json* v = Get(key);
    if (!v || v->is_null()) return;
    if (!v->is_number()) return Fail(key, "invalid type: " + Describe(*v) + ", expected f32");
    *out = static_cast<float>(v->get<double>());
  }
  // Option<integer> in [min, max].
  void Int(const char* key, std::optional<int64_t>* out, int64_t min, int64_t max,
           const char* type) {
    const json* v = Get(key);
    if (!v || v->is_null()) return;
    if (v->is_number_unsigned()) {
      const uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(max)) {
        return Fail(key, "invalid value: integer `" + v->dump() + "`, expected " + type);
      }
      *out = static_cast<int64_t>(u);
      return;
    }
    if (v->is_number_integer()) {
      const int64_t i = v->get<int64_t>();
      if (i < min || i > max) {
        return Fail(key, "invalid value: integer `" + v->dump() + "`, expected " + type);
      }
      *out = i;
      return;
    }
    Fail(key, "invalid type: " + Describe(*v) + ", expected " + type);
  }
  void U64(const char* key, std::optional<uint64_t>* out) {
    const json* v = Get(key);
    if (!v || v->is_null()) return;
    if (v->is_number_unsigned()) {
      *out = v->get<uint64_t>();
    } else if (v->is_number_integer() && v->get<int64_t>() >= 0) {
      *out = static_cast<uint64_t>(v->get<int64_t>());
    } else if (v->is_number_integer()) {
      Fail(key, "invalid value: integer `" + v->dump() + "`, expected u64");
    } else {
      Fail(key, "invalid type: " + Describe(*v) + ", expected u64");
    }
  }
  // bool with a serde default: absent = default, null rejected.
  void Bool(const char* key, bool* out) {
    const json* v = Get(key);
    if (!v) return;
    if (!v->is_boolean())
      return Fail(key, "invalid type: " + Describe(*v) + ", expected a boolean");
    *out = v->get<bool>();
  }
  void OptBool(const char* key, std::optional<bool>* out) {
    const json* v = Get(key);
    if (!v || v->is_null()) return;
    if (!v->is_boolean())
      return Fail(key, "invalid type: " + Describe(*v) + ", expected a boolean");
    *out = v->get<bool>();
  }
  // Vec<String>; `nullable` for Option<Vec<String>>.
  void Strings(const char* key, std::vector<std::string>* out, bool nullable) {
    const json* v = Get(key);
    if (!v || (nullable && v->is_null())) return;
    if (!v->is_array()) return Fail(key, "invalid type: " + Describe(*v) + ", expected a sequence");
    for (const json& s : *v) {
      if (!s.is_string()) return Fail(key, "invalid type: " + Describe(s) + ", expected a string");
      out->push_back(s.get<std::string>());
    }
  }

 private:
  const json& obj_;
  std::string path_;
  std::optional<BodyError>* error_;
};

constexpr int64_t kU32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kI32 = std::numeric_limits<int32_t>::max();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

}  // namespace

std::variant<GenerateRequest, BodyError> ParseGenerateRequest(std::string_view body) {
  auto parsed = ParseJson(body);
  if (auto* e = std::get_if<BodyError>(&parsed)) return *e;
  const json& root = std::get<json>(parsed);
  if (!root.is_object()) {
    return BodyError{422, std::string(kShape) + "invalid type: " + Describe(root) +
                              ", expected struct GenerateRequest"};
  }
  std::optional<BodyError> error;
  GenerateRequest r;
  Reader top(root, "", &error);
  const json* inputs = top.Get("inputs");
  if (!inputs) return BodyError{422, std::string(kShape) + "missing field `inputs`"};
  if (!inputs->is_string()) {
    top.Fail("inputs", "invalid type: " + Describe(*inputs) + ", expected a string");
    return *error;
  }
  r.inputs = inputs->get<std::string>();
  top.Bool("stream", &r.stream);
  const json* params = top.Get("parameters");
  GenerateParameters& p = r.parameters;
  if (!params) {
    p.do_sample = true;  // TGI: no `parameters` key samples (§10.1)
  } else if (!params->is_object()) {
    top.Fail("parameters",
             "invalid type: " + Describe(*params) + ", expected struct GenerateParameters");
  } else {
    Reader in(*params, "parameters", &error);
    in.Int("best_of", &p.best_of, 0, kMax, "usize");
    in.Float("temperature", &p.temperature);
    in.Float("repetition_penalty", &p.repetition_penalty);
    in.Float("frequency_penalty", &p.frequency_penalty);
    in.Int("top_k", &p.top_k, std::numeric_limits<int32_t>::min(), kI32, "i32");
    in.Float("top_p", &p.top_p);
    in.Float("typical_p", &p.typical_p);
    in.Bool("do_sample", &p.do_sample);
    in.Int("max_new_tokens", &p.max_new_tokens, 0, kU32, "u32");
    in.OptBool("return_full_text", &p.return_full_text);
    in.Strings("stop", &p.stop, /*nullable=*/false);
    in.Int("truncate", &p.truncate, 0, kMax, "usize");
    in.Bool("watermark", &p.watermark);
    in.Bool("details", &p.details);
    in.Bool("decoder_input_details", &p.decoder_input_details);
    in.U64("seed", &p.seed);
    in.Int("top_n_tokens", &p.top_n_tokens, 0, kU32, "u32");
    const json* grammar = in.Get("grammar");
    p.has_grammar = grammar && !grammar->is_null();
  }
  if (error) return *error;
  return r;
}

std::variant<CompletionRequest, BodyError> ParseCompletionRequest(std::string_view body) {
  auto parsed = ParseJson(body);
  if (auto* e = std::get_if<BodyError>(&parsed)) return *e;
  const json& root = std::get<json>(parsed);
  if (!root.is_object()) {
    return BodyError{422, std::string(kShape) + "invalid type: " + Describe(root) +
                              ", expected struct CompletionRequest"};
  }
  std::optional<BodyError> error;
  CompletionRequest r;
  Reader in(root, "", &error);
  const json* prompt = in.Get("prompt");
  if (!prompt) return BodyError{422, std::string(kShape) + "missing field `prompt`"};
  if (prompt->is_string()) {
    r.prompts.push_back(prompt->get<std::string>());
  } else if (prompt->is_array() && !prompt->empty()) {
    in.Strings("prompt", &r.prompts, false);
  } else if (prompt->is_array()) {
    return BodyError{422, std::string(kShape) +
                              "prompt: Empty array detected. Do not use an empty array for the "
                              "prompt."};
  } else {
    in.Fail("prompt", "invalid type: " + Describe(*prompt) + ", expected a string or sequence");
  }
  in.Int("max_tokens", &r.max_tokens, 0, kU32, "u32");
  in.Float("temperature", &r.temperature);
  in.Float("top_p", &r.top_p);
  in.Float("repetition_penalty", &r.repetition_penalty);
  in.Float("frequency_penalty", &r.frequency_penalty);
  in.U64("seed", &r.seed);
  in.Strings("stop", &r.stop, /*nullable=*/true);
  in.Bool("stream", &r.stream);
  const json* suffix = in.Get("suffix");
  r.has_suffix = suffix && !suffix->is_null();
  if (error) return *error;
  return r;
}

std::string InvocationKind(std::string_view body) {
  if (CheckDepth(body)) return "";
  json root = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return "";
  for (const char* k : {"inputs", "messages", "prompt"}) {
    if (root.contains(k)) return k;
  }
  return "";
}

int64_t CountChars(std::string_view utf8) {
  int64_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace sg::api
