// The two token counters. /tokenize offsets are byte offsets (tgi-api.md 1.10); the synthetic
// prompts are ASCII, where bytes and characters agree anyway.
#include "cli/bench_serve/token_counter.h"

#include <memory>
#include <nlohmann/json.hpp>

#include "engine/text/tokenizer.h"

namespace sg::benchserve {
namespace {
constexpr std::chrono::milliseconds kTokenizeTimeout{30000};
}  // namespace

StatusOr<std::vector<TokenSpan>> ParseTokenizeReply(const std::string& body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) {
    return InvalidArgumentError("/tokenize did not answer a JSON array (not TGI's shape): " +
                                body.substr(0, 200));
  }
  std::vector<TokenSpan> out;
  for (const auto& t : j) {
    const auto field = [&t](const char* key) -> int64_t {
      auto it = t.find(key);
      return it != t.end() && it->is_number_integer() ? it->get<int64_t>() : -1;
    };
    if (!t.is_object() || field("id") < 0 || field("start") < 0 || field("stop") < field("start")) {
      return InvalidArgumentError("/tokenize: a token without id/start/stop: " + t.dump());
    }
    TokenSpan s{field("id"), static_cast<size_t>(field("start")),
                static_cast<size_t>(field("stop"))};
    if (s.start == s.stop) continue;  // an added special token (BOS)
    out.push_back(s);
  }
  return out;
}

StatusOr<TokenCounter> ServerTokenCounter(const Target& target) {
  TokenCounter c;
  c.source = "server /tokenize";
  c.count = [&target](const std::string& text) -> StatusOr<std::vector<TokenSpan>> {
    const std::string body = nlohmann::json{{"inputs", text}}.dump();
    SG_ASSIGN_OR_RETURN(HttpReply reply, PostJson(target, "/tokenize", body, kTokenizeTimeout));
    if (reply.status != 200) {
      return UnimplementedError("POST /tokenize answered HTTP " + std::to_string(reply.status) +
                                ": " + reply.body.substr(0, 200));
    }
    return ParseTokenizeReply(reply.body);
  };
  // Probe once, so a server without the route is reported before any prompt is built.
  SG_ASSIGN_OR_RETURN(std::vector<TokenSpan> probe, c.count("Hello world"));
  if (probe.empty()) return UnimplementedError("POST /tokenize returned no tokens for a probe");
  return c;
}

StatusOr<TokenCounter> LocalTokenCounter(const std::string& path) {
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::Load(path));
  std::shared_ptr<const Tokenizer> shared(std::move(tok));
  TokenCounter c;
  c.source = "tokenizer " + path;
  c.count = [shared](const std::string& text) -> StatusOr<std::vector<TokenSpan>> {
    const Encoding enc = shared->Encode(text, /*add_special_tokens=*/false);
    std::vector<TokenSpan> out;
    out.reserve(enc.ids.size());
    for (size_t i = 0; i < enc.ids.size(); ++i) {
      const auto span = i < enc.offsets.size() ? enc.offsets[i] : std::pair<uint32_t, uint32_t>{};
      out.push_back({enc.ids[i], span.first, span.second});
    }
    return out;
  };
  return c;
}

}  // namespace sg::benchserve
