// Route registration for ServerApp: health/info/metrics/docs (info_routes.cc), the native TGI
// generation routes (generate_routes.cc), OpenAI completions (completions_route.cc), the Messages
// API and /chat_tokenize (chat_route.cc).
// Thread rules: see server_app.h.
#pragma once

#include <string>

#include "server/api/tgi_json.h"
#include "server/api/validation.h"
#include "server/app/server_app.h"

namespace sg::server {

class Routes {
 public:
  static void Register(ServerApp& app, http::Server& server);
  static void OnLoaded(ServerApp& app);

  // Accessors for the handler files (ServerApp's members are private to this class).
  static ServerApp& App(ServerApp& app) { return app; }
  static const ServeConfig& Config(const ServerApp& a) { return a.config_; }
  static Engine& GetEngine(ServerApp& a) { return *a.engine_; }
  static const Tokenizer& GetTokenizer(const ServerApp& a) { return *a.tokenizer_; }
  static const api::ChatPrompter& GetChat(const ServerApp& a) { return *a.chat_; }
  static const ResolvedLimits& Limits(const ServerApp& a) { return a.limits_; }
  static AdmissionGate& Gate(ServerApp& a) { return a.gate_; }
  // The extra headers of a JSON error answer: `retry-after` (seconds, from the drain rate,
  // drain_rate.h) on a 429 `overloaded`, none otherwise.
  static http::Headers ErrorHeaders(ServerApp& a, int status) {
    if (status != 429) return {};
    return {{"retry-after", std::to_string(a.gate_.RetryAfterSeconds())}};
  }
  // A JSON answer.
  static http::Response JsonResponse(int status, std::string body, http::Headers headers = {}) {
    return http::Response{status, "application/json", std::move(headers), std::move(body)};
  }
  // A JSON error answer (api::ErrorJson) with its ErrorHeaders.
  static http::Response JsonError(ServerApp& a, const api::ApiError& e) {
    return JsonResponse(e.status, api::ErrorJson(e), ErrorHeaders(a, e.status));
  }
  // The `x-compute-type` header's value: $COMPUTE_TYPE, else "cpu" (TGI's).
  static std::string ComputeType();
  // Seconds since the Unix epoch (OpenAI's `created`).
  static int64_t UnixNow();
  static Metrics& GetMetrics(ServerApp& a) { return *a.metrics_; }
  static const Model& GetModel(const ServerApp& a) { return *a.model_; }
  // Null unless --resumable-streams.
  static const std::shared_ptr<http::ResumableStreams>& Resumable(const ServerApp& a) {
    return a.resumable_;
  }
  static api::ValidationLimits ApiLimits(const ServerApp& a) {
    api::ValidationLimits l;
    l.max_best_of = a.config_.max_best_of;
    l.max_stop_sequences = a.config_.max_stop_sequences;
    l.max_top_n_tokens = a.config_.max_top_n_tokens;
    l.max_input_tokens = a.limits_.max_input_tokens;
    l.max_total_tokens = a.limits_.max_total_tokens;
    l.enable_prefill_logprobs = a.config_.enable_prefill_logprobs;
    l.max_client_batch_size = a.config_.max_client_batch_size;
    l.grammars = a.grammars_.get();
    return l;
  }
};

void RegisterInfoRoutes(ServerApp& app, http::Server& server);
void RegisterGenerateRoutes(ServerApp& app, http::Server& server);
void RegisterCompletionsRoute(ServerApp& app, http::Server& server);
void RegisterChatRoutes(ServerApp& app, http::Server& server);  // chat completions, chat_tokenize

// For /invocations, which dispatches on the body's shape (§1.15).
void HandleCompat(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w);
void HandleCompletions(ServerApp& app, http::Request&& req,
                       std::shared_ptr<http::ResponseWriter> w);
void HandleChat(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w);

}  // namespace sg::server
