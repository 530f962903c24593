// POST /v1/completions (API contract §1.13): each prompt runs as its own native request (one
// permit each); a stream interleaves the prompts' chunks and ends with `data: [DONE]`; the
// non-streamed body lists choices in completion order.
#include <boost/asio/post.hpp>
#include <mutex>
#include <random>

#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"
#include "server/app/request_log.h"
#include "server/app/routes.h"
#include "server/http/resumable_writer.h"
#include "server/metrics/metrics.h"

namespace sg::server {
namespace {

struct CompletionCall {
  ServerApp* app = nullptr;
  std::shared_ptr<http::ResponseWriter> writer;
  std::shared_ptr<http::SseStream> stream;
  std::vector<std::unique_ptr<AdmissionGate::Permit>> permits;
  int64_t created = 0;
  std::mutex mu;
  std::vector<uint64_t> engine_ids;
  std::vector<std::string> texts;              // non-stream: generated text per prompt
  std::vector<api::CompletionChoice> choices;  // completion order
  int remaining = 0;
  bool failed = false;
  bool gone = false;
};

// One prompt's request failed (validation, overload or generation).
void Fail(const std::shared_ptr<CompletionCall>& call, const api::ApiError& e) {
  std::unique_lock lock(call->mu);
  if (call->stream) {
    call->stream->Send(api::OpenAiStreamErrorJson(e));
    if (--call->remaining == 0) {
      call->permits.clear();  // free before the client can see the end
      call->stream->Send("[DONE]");
      call->stream->Close();
    }
    return;
  }
  if (call->failed) return;
  call->failed = true;
  for (uint64_t id : call->engine_ids) {
    if (id) Routes::GetEngine(*call->app).Cancel(id);
  }
  call->permits.clear();  // free before the client can see the answer
  lock.unlock();
  call->writer->Respond(Routes::JsonError(*call->app, e));
}

void OnEvent(const std::shared_ptr<CompletionCall>& call, int index, GenerationEvent&& ev) {
  ServerApp& app = *call->app;
  if (ev.error) {
    const bool shutdown = ev.error->kind == GenerationErrorKind::kShutdown;
    RecordFailure(Routes::GetMetrics(app),
                  shutdown ? FailureReason::kIncomplete : FailureReason::kGeneration);
    Fail(call, shutdown ? api::IncompleteGenerationError(call->stream != nullptr)
                        : api::GenerationFailedError(ev.error->message));
    return;
  }
  const std::string& model = Routes::Config(app).model_id;
  std::unique_lock lock(call->mu);
  if (call->stream) {
    call->stream->Send(api::CompletionChunkJson(Routes::UnixNow(), model, index, ev.token->text,
                                                ev.end ? &*ev.end : nullptr));
    if (ev.end) {
      RecordSuccess(Routes::GetMetrics(app), RequestTimes{}, *ev.end);
      if (--call->remaining == 0) {
        call->permits.clear();  // free before the client can see the end
        call->stream->Send("[DONE]");
        call->stream->Close();
      }
    }
    return;
  }
  if (call->failed || !ev.end) return;
  call->choices.push_back({index, ev.end->generated_text, ev.end->finish_reason,
                           ev.end->input_length, ev.end->generated_tokens});
  RecordSuccess(Routes::GetMetrics(app), RequestTimes{}, *ev.end);
  if (--call->remaining > 0) return;
  call->permits.clear();  // free before the client can see the answer
  lock.unlock();
  call->writer->Respond(
      http::Response{200,
                     "application/json",
                     {{"x-compute-type", "cpu"}},
                     api::CompletionResponseJson(call->created, model, call->choices)});
}

void ValidateAndSubmit(std::shared_ptr<CompletionCall> call,
                       std::vector<api::GenerateRequest> requests) {
  ServerApp& app = *call->app;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const int n = static_cast<int>(requests.size());
  std::vector<api::ValidRequest> valid;
  for (int i = 0; i < n; ++i) {
    auto v = api::ValidateGenerate(requests[i], Routes::GetTokenizer(app), Routes::ApiLimits(app),
                                   api::ValidateOptions{}, [] { return rng(); });
    if (auto* err = std::get_if<api::ApiError>(&v)) {
      RecordFailure(Routes::GetMetrics(app), FailureReason::kValidation);
      if (!call->stream) return Fail(call, *err);
      Fail(call, *err);
      continue;
    }
    RecordValidated(Routes::GetMetrics(app), std::get<api::ValidRequest>(v));
    valid.push_back(std::move(std::get<api::ValidRequest>(v)));
    valid.back().engine.top_n_tokens = i;  // remember the prompt index (restored below)
    // The choices carry `"logprobs": null`: nothing shows a token's logprob (greedy skips softmax).
    valid.back().engine.token_logprob = false;
  }
  for (api::ValidRequest& v : valid) {
    const int index = v.engine.top_n_tokens;
    v.engine.top_n_tokens = 0;
    const uint64_t id = Routes::GetEngine(app).Submit(
        std::move(v.engine),
        [call, index](GenerationEvent&& e) { OnEvent(call, index, std::move(e)); });
    std::lock_guard lock(call->mu);
    call->engine_ids[index] = id;
    if (call->gone) Routes::GetEngine(app).Cancel(id);
  }
}

}  // namespace

void HandleCompletions(ServerApp& app, http::Request&& req,
                       std::shared_ptr<http::ResponseWriter> w) {
  // A reconnect (Last-Event-ID) is answered here; a new stream becomes resumable.
  if (http::ResumeOrWrap(Routes::Resumable(app), req, &w)) return;
  auto parsed = api::ParseCompletionRequest(req.body);
  if (auto* e = std::get_if<api::BodyError>(&parsed)) {
    return w->Respond({e->status, "text/plain; charset=utf-8", {}, e->message});
  }
  api::CompletionRequest request = std::move(std::get<api::CompletionRequest>(parsed));
  if (!app.ready()) {
    return w->Respond(Routes::JsonError(app, api::UnhealthyError()));
  }
  Metrics& metrics = Routes::GetMetrics(app);
  metrics.RequestReceived();
  // The suffix and batch-size checks come before a permit is taken (TGI's order).
  auto native = api::CompletionToGenerate(request, Routes::ApiLimits(app));
  if (auto* err = std::get_if<api::ApiError>(&native)) {
    RecordFailure(metrics, FailureReason::kValidation);
    return w->Respond(Routes::JsonError(app, *err));
  }
  std::vector<api::GenerateRequest> requests =
      std::move(std::get<std::vector<api::GenerateRequest>>(native));
  auto call = std::make_shared<CompletionCall>();
  call->app = &app;
  call->writer = w;
  call->created = Routes::UnixNow();
  const int n = static_cast<int>(request.prompts.size());
  call->remaining = n;
  call->engine_ids.assign(n, 0);
  if (request.stream) {
    call->stream = w->StartSse({{"x-compute-type", "cpu"}});
  }
  for (int i = 0; i < n; ++i) {  // one permit per prompt (TGI); all or nothing
    auto permit = Routes::Gate(app).TryAcquire();
    if (!permit) break;
    call->permits.push_back(std::move(permit));
  }
  if (call->permits.size() < static_cast<size_t>(n)) {
    call->permits.clear();
    RecordFailure(metrics, FailureReason::kOverloaded);
    if (call->stream) {
      call->stream->Send(api::OpenAiStreamErrorJson(api::OverloadedError()));
      call->stream->Send("[DONE]");
      call->stream->Close();
    } else {
      w->Respond(Routes::JsonError(app, api::OverloadedError()));
    }
    return;
  }
  std::weak_ptr<CompletionCall> weak = call;
  w->OnDisconnect([weak, &app] {
    auto c = weak.lock();
    if (!c) return;
    std::lock_guard lock(c->mu);
    c->gone = true;
    c->failed = true;
    for (uint64_t id : c->engine_ids) {
      if (id) Routes::GetEngine(app).Cancel(id);
    }
    RecordFailure(Routes::GetMetrics(app), FailureReason::kDropped);
  });
  app.PostValidation([call, r = std::move(requests)]() mutable {
    ValidateAndSubmit(std::move(call), std::move(r));
  });
}

void RegisterCompletionsRoute(ServerApp& app, http::Server& server) {
  server.Route("POST", "/v1/completions", {/*json_body=*/true, /*protected_=*/true},
               [&app](http::Request&& r, auto w) { HandleCompletions(app, std::move(r), w); });
}

}  // namespace sg::server
