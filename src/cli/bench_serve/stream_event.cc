// Event shapes: ../shared/spec/tgi-api.md 2.2-2.4 and 9.5 (TGI), plus what vLLM and llama.cpp send
// on the OpenAI routes (a role-only first chat chunk; finish_reason null until the end).
#include "cli/bench_serve/stream_event.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace sg::benchserve {
namespace {

using nlohmann::json;

bool ContainsOverloaded(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s.find("overloaded") != std::string::npos;
}

std::string StringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A non-empty string (TGI's intermediate completions chunks carry finish_reason "").
bool NonEmptyString(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

void ReadError(const json& e, StreamEvent* out) {
  out->error = true;
  if (e.is_string()) {  // native: {"error": "...", "error_type": "..."}
    out->error_message = e.get<std::string>();
  } else if (e.is_object()) {  // OpenAI: {"error": {"message": ..., "type"?: ...}}
    out->error_message = StringOr(e, "message");
    const std::string type = StringOr(e, "type");
    if (ContainsOverloaded(type)) out->overloaded = true;
    if (out->error_message.empty()) out->error_message = e.dump();
  } else {
    out->error_message = e.dump();
  }
  if (ContainsOverloaded(out->error_message)) out->overloaded = true;
}

void ReadNative(const json& j, StreamEvent* out) {
  if (j.contains("token")) out->token = true;
  auto text = j.find("generated_text");
  if (text != j.end() && !text->is_null()) out->done = true;
  auto details = j.find("details");
  if (details != j.end() && details->is_object()) {
    auto in = details->find("input_length");
    if (in != details->end() && in->is_number_integer()) out->prompt_tokens = in->get<int64_t>();
    auto gen = details->find("generated_tokens");
    if (gen != details->end() && gen->is_number_integer()) {
      out->completion_tokens = gen->get<int64_t>();
    }
  }
}

void ReadOpenAi(Endpoint endpoint, const json& j, StreamEvent* out) {
  auto usage = j.find("usage");
  if (usage != j.end() && usage->is_object()) {
    auto p = usage->find("prompt_tokens");
    if (p != usage->end() && p->is_number_integer()) out->prompt_tokens = p->get<int64_t>();
    auto c = usage->find("completion_tokens");
    if (c != usage->end() && c->is_number_integer()) out->completion_tokens = c->get<int64_t>();
  }
  auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return;
  const json& choice = choices->front();
  if (!choice.is_object()) return;
  bool has_text = false;
  if (endpoint == Endpoint::kChat) {
    auto delta = choice.find("delta");
    if (delta != choice.end() && delta->is_object()) {
      has_text = NonEmptyString(*delta, "content") || NonEmptyString(*delta, "reasoning_content") ||
                 (delta->contains("tool_calls") && !(*delta)["tool_calls"].is_null());
    }
  } else {
    has_text = NonEmptyString(choice, "text");
  }
  out->token = has_text || NonEmptyString(choice, "finish_reason");
}

}  // namespace

StreamEvent InterpretEvent(Endpoint endpoint, std::string_view data) {
  StreamEvent out;
  if (data == "[DONE]") {
    out.done = true;
    return out;
  }
  json j = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    out.error = true;
    out.error_message = "unparsable event: " + std::string(data.substr(0, 200));
    return out;
  }
  if (auto e = j.find("error"); e != j.end() && !e->is_null()) {
    ReadError(*e, &out);
    if (ContainsOverloaded(StringOr(j, "error_type"))) out.overloaded = true;
    return out;
  }
  if (endpoint == Endpoint::kGenerateStream) {
    ReadNative(j, &out);
  } else {
    ReadOpenAi(endpoint, j, &out);
  }
  return out;
}

}  // namespace sg::benchserve
