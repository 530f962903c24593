// Fuzzes the TGI request layer with untrusted bodies: every body parser, then validation with the
// demo model's real tokenizer, then the response builders. Must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  static std::mt19937_64 rng(1);
  const sg::api::ValidationLimits limits{2, 4, 5, 255, 256, true};
  auto parsed = sg::api::ParseGenerateRequest(body);
  if (auto* r = std::get_if<sg::api::GenerateRequest>(&parsed)) {
    for (bool streaming : {false, true}) {
      auto v = sg::api::ValidateGenerate(*r, DemoTokenizer(), limits, streaming, !streaming, rng);
      if (auto* ok = std::get_if<sg::api::ValidRequest>(&v)) {
        sg::GenerationEnd end;
        end.generated_text = r->inputs;
        sg::TokenInfo token{1, r->inputs, -1.0f, false};
        (void)sg::api::StreamTokenJson(1, token, {token}, true, &end, *ok);
      } else {
        (void)sg::api::ErrorJson(std::get<sg::api::ApiError>(v));
      }
    }
  }
  (void)sg::api::ParseCompletionRequest(body);
  (void)sg::api::InvocationKind(body);
  return 0;
}
