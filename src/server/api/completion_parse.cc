// CompletionRequest (with its untagged `Prompt`) and SageMaker's untagged request enum, read as
// TGI's serde-derived types (router/src/lib.rs, router/src/sagemaker.rs at v3.3.7).
#include <string>

#include "server/api/chat_request.h"
#include "server/api/serde_struct.h"
#include "server/api/tgi_request.h"

namespace sg::api {
namespace {

BodyError ToBodyError(const DeError& e) { return BodyError{e.syntax ? 400 : 422, DeErrorText(e)}; }

// `#[serde(try_from = "PromptDeserializer")] struct Prompt(Vec<String>)` where the deserializer
// is `#[serde(untagged)] enum { Single(String), Multiple(Vec<String>) }`: serde buffers the whole
// value first (every string checked, every number parsed, depth counted), then tries the variants.
bool ReadPrompt(SerdeReader& r, std::vector<std::string>* prompts) {
  prompts->clear();
  int c = 0;
  if (!r.PeekValue(&c)) return false;
  bool matches = true;
  if (c == '"') {
    std::string s;
    if (!r.ReadString(&s)) return false;
    prompts->push_back(std::move(s));
  } else if (c == '[') {
    if (!r.Enter()) return false;
    r.Eat();
    bool first = true;
    for (size_t i = 0;; ++i) {
      bool has = false;
      if (!r.HasNextElement(&first, &has)) return false;
      if (!has) break;
      r.PushIndex(i);
      int e = 0;
      bool ok = r.PeekValue(&e);
      if (ok && e == '"') {
        std::string s;
        ok = r.ReadString(&s);
        prompts->push_back(std::move(s));
      } else if (ok) {
        matches = false;
        ok = r.SkipContent();
      }
      r.Pop();
      if (!ok) return false;
    }
    r.Leave();
    if (!r.EndSeq()) return false;
  } else {
    matches = false;
    if (!r.SkipContent()) return false;
  }
  if (!matches)
    return r.PendingDataError("data did not match any variant of untagged enum PromptDeserializer");
  if (prompts->empty()) {
    return r.PendingDataError("Empty array detected. Do not use an empty array for the prompt.");
  }
  return true;
}

std::vector<FieldSpec> CompletionFields(CompletionRequest* c) {
  auto opt_f32 = [](std::optional<float>* f) {
    return [f](SerdeReader& r) { return ReadOptionalF32(r, f); };
  };
  // Declaration order of TGI's CompletionRequest. `model` and `seed` have no serde default:
  // optional in the map form (Option), required in the sequence form.
  return {
      {"model", false, true, [c](SerdeReader& r) { return ReadOptionalString(r, &c->model); }},
      {"prompt", true, true, [c](SerdeReader& r) { return ReadPrompt(r, &c->prompts); }},
      {"max_tokens", false, false,
       [c](SerdeReader& r) { return ReadOptionalU32(r, &c->max_tokens); }},
      {"temperature", false, false, opt_f32(&c->temperature)},
      {"top_p", false, false, opt_f32(&c->top_p)},
      {"stream", false, false, [c](SerdeReader& r) { return r.ReadBool(&c->stream); }},
      {"seed", false, true, [c](SerdeReader& r) { return ReadOptionalU64(r, "u64", &c->seed); }},
      {"suffix", false, false,
       [c](SerdeReader& r) {
         std::optional<std::string> suffix;
         if (!ReadOptionalString(r, &suffix)) return false;
         c->has_suffix = suffix.has_value();
         return true;
       }},
      {"repetition_penalty", false, false, opt_f32(&c->repetition_penalty)},
      {"frequency_penalty", false, false, opt_f32(&c->frequency_penalty)},
      {"stop", false, false,
       [c](SerdeReader& r) {
         bool is_null = false;
         c->stop.clear();
         if (!r.ReadNull(&is_null)) return false;
         return is_null || r.ReadStringSeq(&c->stop);
       }},
  };
}

}  // namespace

std::variant<CompletionRequest, BodyError> ParseCompletionRequest(std::string_view body) {
  SerdeReader r(body);
  CompletionRequest req;
  if (!ReadStruct(r, "CompletionRequest", CompletionFields(&req)) || !r.End()) {
    return ToBodyError(r.error());
  }
  return req;
}

std::variant<InvocationShape, BodyError> ClassifyInvocation(std::string_view body) {
  // `#[serde(untagged)] enum SagemakerRequest`: the whole body is buffered first, so syntax
  // errors (and trailing characters) win over every shape question.
  SerdeReader content(body);
  if (!content.SkipContent() || !content.End()) return ToBodyError(content.error());
  if (std::holds_alternative<GenerateRequest>(ParseGenerateRequest(body, GenerateShape::kCompat))) {
    return InvocationShape::kCompat;
  }
  if (std::holds_alternative<ChatRequest>(ParseChatRequest(body))) return InvocationShape::kChat;
  if (std::holds_alternative<CompletionRequest>(ParseCompletionRequest(body))) {
    return InvocationShape::kCompletion;
  }
  // Raised outside serde_json's methods, so serde prints no position.
  DeError e;
  e.message = "data did not match any variant of untagged enum SagemakerRequest";
  return ToBodyError(e);
}

std::string InvocationKind(std::string_view body) {
  auto shape = ClassifyInvocation(body);
  if (std::holds_alternative<BodyError>(shape)) return "";
  switch (std::get<InvocationShape>(shape)) {
    case InvocationShape::kCompat:
      return "inputs";
    case InvocationShape::kChat:
      return "messages";
    case InvocationShape::kCompletion:
      return "prompt";
  }
  return "";
}

}  // namespace sg::api
