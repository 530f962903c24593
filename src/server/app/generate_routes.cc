// The native TGI generation routes: POST /generate, /generate_stream, / (compat, stream or not by
// the `stream` field) and /invocations (dispatch on the body's shape).
//
// One request's life: I/O thread (parse, take a permit or refuse `overloaded`) -> validation
// worker (validate + tokenize, API contract §3.2) -> engine thread -> event dispatcher thread
// (events) -> the SSE stream or the JSON body. A disconnect cancels the engine request (with
// --resumable-streams, a stream's client may come back: the cancel waits for the window, see
// server/http/resumable_writer.h); the permit returns when the last holder (engine callback or
// HTTP side) lets the context go.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <mutex>
#include <random>

#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"
#include "server/api/validation.h"
#include "server/app/request_log.h"
#include "server/app/routes.h"
#include "server/http/resumable_writer.h"
#include "server/metrics/metrics.h"

namespace sg::server {
namespace {

using Clock = std::chrono::steady_clock;

enum class Shape { kGenerate, kStream, kCompat };

// State shared by the HTTP side and the engine callback of one native request.
struct NativeCall : std::enable_shared_from_this<NativeCall> {
  ServerApp* app = nullptr;
  std::shared_ptr<http::ResponseWriter> writer;
  std::shared_ptr<http::SseStream> stream;  // set for streamed requests
  std::vector<std::unique_ptr<AdmissionGate::Permit>> permits;
  api::ValidRequest valid;
  RequestTimes times;

  // One entry per best_of sequence (1 unless best_of > 1).
  struct Sequence {
    uint64_t engine_id = 0;
    std::vector<TokenInfo> tokens;
    std::vector<std::vector<TokenInfo>> top_tokens;
    std::optional<GenerationEnd> end;
  };
  std::mutex mu;  // guards sequences, finished, failed (event dispatcher thread vs disconnect)
  std::vector<Sequence> sequences;
  int finished = 0;
  bool failed = false;
  std::atomic<bool> gone{false};
  uint32_t index = 0;      // stream event index (event dispatcher thread only)
  bool list_body = false;  // POST / non-streamed
};

void RespondError(NativeCall& call, const api::ApiError& e, FailureReason metric) {
  if (call.app->ready()) RecordFailure(Routes::GetMetrics(*call.app), metric);
  call.permits.clear();  // free before the client can see the answer (and send its next request)
  if (call.stream) {
    call.stream->Send(api::ErrorJson(e));
    call.stream->Close();
  } else {
    call.writer->Respond(Routes::JsonError(*call.app, e));
  }
}

// Engine thread: one event of sequence `seq`.
void OnEvent(const std::shared_ptr<NativeCall>& call, size_t seq, GenerationEvent&& event) {
  ServerApp& app = *call->app;
  Metrics& metrics = Routes::GetMetrics(app);
  if (event.error) {
    {
      std::lock_guard lock(call->mu);
      if (call->failed) return;
      call->failed = true;
    }
    for (auto& s : call->sequences) {
      if (s.engine_id) Routes::GetEngine(app).Cancel(s.engine_id);
    }
    const bool shutdown = event.error->kind == GenerationErrorKind::kShutdown;
    api::ApiError e = shutdown ? api::IncompleteGenerationError(call->stream != nullptr)
                               : api::GenerationFailedError(event.error->message);
    RespondError(*call, e, shutdown ? FailureReason::kIncomplete : FailureReason::kGeneration);
    return;
  }
  if (call->stream) {
    const bool last = event.end.has_value();
    std::string payload = api::StreamTokenJson(++call->index, *event.token, event.top_tokens,
                                               call->valid.top_n_tokens > 0,
                                               last ? &*event.end : nullptr, call->valid);
    if (last) call->permits.clear();  // free before the client can see the end
    call->stream->Send(std::move(payload));
    if (last) {
      call->times.Finish(*event.end);
      RecordSuccess(metrics, call->times, *event.end);
      LogRequest(call->times, *event.end, call->valid, Routes::Config(app).json_output);
      call->stream->Close();
    }
    return;
  }
  std::unique_lock lock(call->mu);
  if (call->failed) return;
  NativeCall::Sequence& s = call->sequences[seq];
  s.tokens.push_back(std::move(*event.token));
  if (call->valid.top_n_tokens > 0) s.top_tokens.push_back(std::move(event.top_tokens));
  if (!event.end) return;
  s.end = std::move(*event.end);
  if (++call->finished < static_cast<int>(call->sequences.size())) return;
  lock.unlock();
  // All sequences done: the best mean logprob wins (TGI's best_of; first max on ties).
  size_t best = 0;
  double best_score = -1e300;
  for (size_t i = 0; i < call->sequences.size(); ++i) {
    double sum = 0;
    for (const auto& t : call->sequences[i].tokens) sum += t.logprob;
    const double mean = sum / std::max<size_t>(1, call->sequences[i].tokens.size());
    if (mean > best_score) {
      best_score = mean;
      best = i;
    }
  }
  std::vector<api::GeneratedSequence> seqs;
  for (auto& q : call->sequences) seqs.push_back({&q.tokens, &q.top_tokens, &*q.end});
  const GenerationEnd& end = *call->sequences[best].end;
  call->times.Finish(end);
  std::string body = api::GenerateResponseJson(seqs, best, call->valid);
  if (call->list_body) body = "[" + body + "]";  // POST / answers a one-element list (§1.6)
  RecordSuccess(metrics, call->times, end);
  LogRequest(call->times, end, call->valid, Routes::Config(app).json_output);
  call->permits.clear();  // free before the client can see the answer
  call->writer->Respond(Routes::JsonResponse(
      200, std::move(body), call->times.Headers(end, call->valid, Routes::ComputeType())));
}

// Validation worker: validate, then submit to the engine.
void ValidateAndSubmit(std::shared_ptr<NativeCall> call, api::GenerateRequest request,
                       Shape shape) {
  ServerApp& app = *call->app;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  api::ValidateOptions options;
  options.streaming = shape != Shape::kGenerate && call->stream != nullptr;
  options.default_return_full_text = shape == Shape::kCompat;
  auto valid = api::ValidateGenerate(request, Routes::GetTokenizer(app), Routes::ApiLimits(app),
                                     options, [] { return rng(); });
  if (auto* err = std::get_if<api::ApiError>(&valid)) {
    RespondError(*call, *err, FailureReason::kValidation);
    return;
  }
  call->valid = std::move(std::get<api::ValidRequest>(valid));
  call->times.Validated();
  RecordValidated(Routes::GetMetrics(app), call->valid);
  const int n = std::max(1, call->valid.best_of);
  for (int i = 1; i < n; ++i) {  // best_of takes one permit per sequence (TGI)
    auto permit = Routes::Gate(app).TryAcquire();
    if (!permit) {
      RespondError(*call, api::OverloadedError(), FailureReason::kOverloaded);
      return;
    }
    call->permits.push_back(std::move(permit));
  }
  call->sequences.resize(n);
  for (int i = 0; i < n; ++i) {
    GenerationRequest req = call->valid.engine;
    req.received = call->times.received;
    if (i > 0) req.sampling.seed = rng();  // best_of sequences draw their own seeds
    const uint64_t id = Routes::GetEngine(app).Submit(
        std::move(req), [call, i](GenerationEvent&& e) { OnEvent(call, i, std::move(e)); });
    {
      std::lock_guard lock(call->mu);
      call->sequences[i].engine_id = id;
    }
    if (call->gone.load()) Routes::GetEngine(app).Cancel(id);
  }
}

void HandleNative(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w,
                  Shape shape) {
  // A reconnect (Last-Event-ID) is answered here; a new stream becomes resumable. /generate never
  // streams.
  if (shape != Shape::kGenerate && http::ResumeOrWrap(Routes::Resumable(app), req, &w)) return;
  auto call = std::make_shared<NativeCall>();
  call->app = &app;
  call->writer = w;
  call->times.received = Clock::now();
  // POST / reads CompatGenerateRequest (`stream` a bool); the others GenerateRequest, where a
  // `stream` key is an unknown field.
  auto parsed =
      api::ParseGenerateRequest(req.body, shape == Shape::kCompat ? api::GenerateShape::kCompat
                                                                  : api::GenerateShape::kGenerate);
  if (auto* err = std::get_if<api::BodyError>(&parsed)) {
    w->Respond(http::Response{err->status, "text/plain; charset=utf-8", {}, err->message});
    return;
  }
  api::GenerateRequest request = std::move(std::get<api::GenerateRequest>(parsed));
  const bool streamed = shape == Shape::kStream || (shape == Shape::kCompat && request.stream);
  call->list_body = shape == Shape::kCompat && !streamed;
  if (streamed) {
    call->stream =
        w->StartSse({{"x-compute-type", Routes::ComputeType()},
                     {"x-compute-characters", std::to_string(api::CountChars(request.inputs))}});
  }
  if (!app.ready()) {
    RespondError(*call, api::UnhealthyError(), FailureReason::kGeneration);
    return;
  }
  Routes::GetMetrics(app).RequestReceived();
  // TGI checks these before it takes a concurrency permit: an overloaded server still answers
  // them with the validation error.
  std::optional<api::ApiError> early =
      streamed ? api::CheckStreamOnly(request) : api::CheckBestOf(request, Routes::ApiLimits(app));
  if (early) {
    RespondError(*call, *early, FailureReason::kValidation);
    return;
  }
  auto permit = Routes::Gate(app).TryAcquire();
  if (!permit) {
    RespondError(*call, api::OverloadedError(), FailureReason::kOverloaded);
    return;
  }
  call->permits.push_back(std::move(permit));
  std::weak_ptr<NativeCall> weak = call;
  w->OnDisconnect([weak, &app] {
    auto c = weak.lock();
    if (!c) return;
    c->gone.store(true);
    std::lock_guard lock(c->mu);
    if (c->failed || c->finished == static_cast<int>(c->sequences.size())) return;
    c->failed = true;  // no more answers
    for (auto& s : c->sequences) {
      if (s.engine_id) Routes::GetEngine(app).Cancel(s.engine_id);
    }
    RecordFailure(Routes::GetMetrics(app), FailureReason::kDropped);
  });
  app.PostValidation([call, r = std::move(request), shape]() mutable {
    ValidateAndSubmit(std::move(call), std::move(r), shape);
  });
}

}  // namespace

void HandleCompat(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
  HandleNative(app, std::move(req), std::move(w), Shape::kCompat);
}

void RegisterGenerateRoutes(ServerApp& app, http::Server& server) {
  const http::RouteOptions gen{/*json_body=*/true, /*protected_=*/true};
  server.Route("POST", "/generate", gen, [&app](http::Request&& r, auto w) {
    HandleNative(app, std::move(r), std::move(w), Shape::kGenerate);
  });
  server.Route("POST", "/generate_stream", gen, [&app](http::Request&& r, auto w) {
    HandleNative(app, std::move(r), std::move(w), Shape::kStream);
  });
  server.Route("POST", "/", gen, [&app](http::Request&& r, auto w) {
    HandleNative(app, std::move(r), std::move(w), Shape::kCompat);
  });
}

}  // namespace sg::server
