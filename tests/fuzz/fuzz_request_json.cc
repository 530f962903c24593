// Fuzzes the TGI API layer (src/server/api) with untrusted request bodies: every body parser
// (GenerateRequest, CompatGenerateRequest, CompletionRequest, ChatRequest, the SageMaker
// dispatch), then validation with the demo model's real tokenizer (every route's options), then
// every response builder fed with text derived from the body. Must never crash, hang, leak or trip
// a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/api/chat_request.h"
#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"
#include "server/api/utf8.h"
#include "server/api/validation.h"

namespace {

const sg::Tokenizer& DemoTokenizer() {
  static const sg::Tokenizer* t = [] {
    auto loaded = sg::Tokenizer::Load(std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf");
    if (!loaded.ok()) __builtin_trap();
    return std::move(*loaded).release();
  }();
  return *t;
}

// Builds every response a validated request can lead to.
void Respond(const sg::api::ValidRequest& v, const std::string& text) {
  sg::TokenInfo token{1, text, -1.5f, false};
  sg::GenerationEnd end;
  end.generated_text = text;
  end.generated_tokens = 2;
  end.input_length = v.input_length;
  end.sampled = v.engine.sampling.do_sample;
  end.seed = v.engine.sampling.seed;
  end.prefill = {token};
  (void)sg::api::StreamTokenJson(1, token, {token, token}, v.top_n_tokens > 0, nullptr, v);
  (void)sg::api::StreamTokenJson(2, token, {}, false, &end, v);
  const std::vector<sg::TokenInfo> tokens = {token, token};
  const std::vector<std::vector<sg::TokenInfo>> top = {{token}, {token}};
  const std::vector<sg::api::GeneratedSequence> seqs = {{&tokens, &top, &end},
                                                        {&tokens, &top, &end}};
  (void)sg::api::CompatResponseJson(
      sg::api::GenerateResponseJson(seqs, sg::api::BestSequence(seqs), v));
  (void)sg::api::CompletionChunkJson(0, text, 0, text, &end);
  (void)sg::api::CompletionResponseJson(0, text, {{0, text, end.finish_reason, 1, 2}});
}

void Validate(const sg::api::GenerateRequest& r, const sg::api::ValidationLimits& limits) {
  uint64_t next_seed = 1;
  for (int route = 0; route < 3; ++route) {  // /generate, /generate_stream, POST /
    const sg::api::ValidateOptions options{route == 1, route == 2};
    auto v = sg::api::ValidateGenerate(r, DemoTokenizer(), limits, options,
                                       [&next_seed] { return next_seed++; });
    if (auto* ok = std::get_if<sg::api::ValidRequest>(&v)) {
      if (ok->engine.prompt_ids.empty() || ok->engine.stopping.max_new_tokens < 1) __builtin_trap();
      if (ok->input_length + 0ll > limits.max_input_tokens) __builtin_trap();
      Respond(*ok, r.inputs);
    } else {
      (void)sg::api::ErrorJson(std::get<sg::api::ApiError>(v));
      (void)sg::api::OpenAiStreamErrorJson(std::get<sg::api::ApiError>(v));
    }
  }
  const sg::Encoding e = DemoTokenizer().Encode(r.inputs, true);
  (void)sg::api::TokenizeJson(e, r.inputs, DemoTokenizer());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const sg::api::ValidationLimits limits{2, 4, 5, 255, 256, true, 4};
  for (auto shape : {sg::api::GenerateShape::kGenerate, sg::api::GenerateShape::kCompat}) {
    auto parsed = sg::api::ParseGenerateRequest(body, shape);
    if (auto* r = std::get_if<sg::api::GenerateRequest>(&parsed)) {
      if (!sg::api::IsValidUtf8(r->inputs)) __builtin_trap();  // the parser checks every string
      Validate(*r, limits);
    } else {
      const sg::api::BodyError& e = std::get<sg::api::BodyError>(parsed);
      if (e.status != 400 && e.status != 422) __builtin_trap();
    }
  }
  auto completion = sg::api::ParseCompletionRequest(body);
  if (auto* c = std::get_if<sg::api::CompletionRequest>(&completion)) {
    if (c->prompts.empty()) __builtin_trap();
    auto requests = sg::api::CompletionToGenerate(*c, limits);
    if (auto* list = std::get_if<std::vector<sg::api::GenerateRequest>>(&requests)) {
      for (const auto& r : *list) Validate(r, limits);
    }
  }
  auto chat = sg::api::ParseChatRequest(body);
  if (auto* e = std::get_if<sg::api::BodyError>(&chat)) {
    if (e->status != 400 && e->status != 422) __builtin_trap();
  }
  (void)sg::api::ClassifyInvocation(body);
  (void)sg::api::JsonString(body);  // arbitrary bytes: always valid JSON text out
  return 0;
}
