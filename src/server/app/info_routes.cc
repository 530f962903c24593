// GET /health, /ping, / (health), /info, /metrics, /v1/models, /api-doc/openapi.json;
// POST /tokenize and /invocations; route registration.
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstdlib>

#include "server/api/openapi.h"
#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"
#include "server/app/async_log.h"
#include "server/app/request_log.h"
#include "server/app/routes.h"
#include "server/metrics/metrics.h"

namespace sg::server {
namespace {

http::Response Json(int status, std::string body) {
  return Routes::JsonResponse(status, std::move(body));
}

http::Response Unhealthy() { return Json(503, api::ErrorJson(api::UnhealthyError())); }

void Health(ServerApp& app, std::shared_ptr<http::ResponseWriter> w) {
  w->Respond(app.ready() ? http::Response{200, "", {}, ""} : Unhealthy());
}

void Info(ServerApp& app, std::shared_ptr<http::ResponseWriter> w) {
  if (!app.ready()) return w->Respond(Unhealthy());
  const ServeConfig& c = Routes::Config(app);
  const ResolvedLimits& l = Routes::Limits(app);
  const EngineStats& s = Routes::GetEngine(app).stats();
  AdmissionGate& gate = Routes::Gate(app);
  api::LoadFields load;
  load.queue_size = s.queue_size.load();
  load.requests_in_flight = gate.in_use();
  load.kv_blocks_free = s.kv_blocks_free.load();
  load.kv_blocks_total = s.kv_blocks_total.load();
  load.kv_blocks_cached = s.kv_blocks_cached.load();
  load.prefix_caching = c.prefix_caching;
  load.drain_per_second = gate.DrainPerSecond();
  load.retry_after_s = gate.RetryAfterSeconds();
  w->Respond(Json(200, api::InfoJson({c.model_id, c.max_concurrent_requests, c.max_best_of,
                                      c.max_stop_sequences, l.max_input_tokens, l.max_total_tokens,
                                      c.validation_workers, c.max_client_batch_size, load})));
}

void MetricsRoute(ServerApp& app, std::shared_ptr<http::ResponseWriter> w) {
  if (!app.ready()) return w->Respond({200, "text/plain; charset=utf-8", {}, ""});
  const EngineStats& s = Routes::GetEngine(app).stats();
  Gauges g;
  g.queue_size = s.queue_size.load();
  g.batch_current_size = s.running.load();
  g.batch_current_max_tokens = s.reserved_tokens.load();
  g.batch_max_total_tokens = Routes::Limits(app).max_batch_total_tokens;
  g.kv_blocks_free = s.kv_blocks_free.load();
  g.kv_blocks_total = s.kv_blocks_total.load();
  g.requests_in_flight = Routes::Gate(app).in_use();
  g.steps_prefill = s.steps_prefill.load();
  g.steps_decode = s.steps_decode.load();
  g.engine_step_seconds = static_cast<double>(s.step_nanos.load()) * 1e-9;
  g.event_handoff_seconds = static_cast<double>(s.handoff_nanos.load()) * 1e-9;
  g.event_delivery_seconds = static_cast<double>(s.delivery_nanos.load()) * 1e-9;
  g.events_delivered = s.events_delivered.load();
  g.log_messages_dropped = LogMessagesDropped();
  g.kv_blocks_cached = s.kv_blocks_cached.load();
  g.prefix_queried_tokens = s.prefix_queried_tokens.load();
  g.prefix_hit_tokens = s.prefix_hit_tokens.load();
  g.prefix_evictions = s.prefix_evictions.load();
  g.drain_per_second = Routes::Gate(app).DrainPerSecond();
  w->Respond({200, "text/plain; charset=utf-8", {}, Routes::GetMetrics(app).Render(g)});
}

void Tokenize(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
  auto parsed = api::ParseGenerateRequest(req.body, api::GenerateShape::kGenerate);
  if (auto* e = std::get_if<api::BodyError>(&parsed)) {
    return w->Respond({e->status, "text/plain; charset=utf-8", {}, e->message});
  }
  if (!app.ready()) return w->Respond(Unhealthy());
  app.PostValidation([&app, w, r = std::move(std::get<api::GenerateRequest>(parsed))] {
    const Tokenizer& t = Routes::GetTokenizer(app);
    Encoding enc = t.Encode(r.inputs, /*add_special_tokens=*/true);
    w->Respond(Json(200, api::TokenizeJson(enc, r.inputs, t)));
  });
}

void Invocations(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
  auto shape = api::ClassifyInvocation(req.body);
  if (auto* e = std::get_if<api::BodyError>(&shape)) {
    return w->Respond({e->status, "text/plain; charset=utf-8", {}, e->message});
  }
  switch (std::get<api::InvocationShape>(shape)) {
    case api::InvocationShape::kCompat:
      return HandleCompat(app, std::move(req), std::move(w));
    case api::InvocationShape::kCompletion:
      return HandleCompletions(app, std::move(req), std::move(w));
    case api::InvocationShape::kChat:
      return HandleChat(app, std::move(req), std::move(w));
  }
}

}  // namespace

std::string Routes::ComputeType() {
  const char* v = std::getenv("COMPUTE_TYPE");
  return v ? v : "cpu";
}

int64_t Routes::UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Routes::OnLoaded(ServerApp& app) {
  app.metrics_ =
      std::make_unique<Metrics>(app.limits_.max_input_tokens, app.limits_.max_total_tokens);
}

void Routes::Register(ServerApp& app, http::Server& server) {
  const http::RouteOptions open{};
  const http::RouteOptions json_protected{/*json_body=*/true, /*protected_=*/true};
  for (const char* path : {"/health", "/ping", "/"}) {
    server.Route("GET", path, open, [&app](http::Request&&, auto w) { Health(app, w); });
  }
  server.Route("GET", "/info", open, [&app](http::Request&&, auto w) { Info(app, w); });
  server.Route("GET", "/metrics", open, [&app](http::Request&&, auto w) { MetricsRoute(app, w); });
  server.Route("GET", "/v1/models", open, [&app](http::Request&&, auto w) {
    w->Respond(Json(200, api::ModelsJson(Routes::Config(app).model_id)));
  });
  server.Route("GET", "/api-doc/openapi.json", open, [](http::Request&&, auto w) {
    w->Respond(Json(200, std::string(api::OpenApiDocument())));
  });
  server.Route("POST", "/tokenize", json_protected,
               [&app](http::Request&& r, auto w) { Tokenize(app, std::move(r), w); });
  server.Route("POST", "/invocations", json_protected,
               [&app](http::Request&& r, auto w) { Invocations(app, std::move(r), w); });
  RegisterGenerateRoutes(app, server);
  RegisterCompletionsRoute(app, server);
  RegisterChatRoutes(app, server);
}

}  // namespace sg::server
