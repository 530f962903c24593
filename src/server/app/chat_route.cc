// POST /v1/chat/completions (API contract §9, §2.4) and POST /chat_tokenize (§1.11); /invocations
// hands chat bodies to HandleChat (§1.15).
//
// One request's life: I/O thread (parse: plain-text 400/422) -> validation worker (chat template:
// template and tool errors are HTTP errors even for streams; then, as TGI's generate path, the SSE
// headers, the concurrency permit and validation, whose errors arrive in-band on streams as
// {"error":{"message","http_status_code":422}} followed by `data: [DONE]`) -> engine -> event
// dispatcher thread (one chunk per token; the finish chunk, the include_usage chunk, `data:
// [DONE]`). A disconnect cancels the engine request.
#include <spdlog/spdlog.h>

#include <mutex>
#include <random>

#include "server/api/chat_json.h"
#include "server/api/chat_prompt.h"
#include "server/api/chat_request.h"
#include "server/api/tgi_json.h"
#include "server/api/utf8.h"
#include "server/app/request_log.h"
#include "server/app/routes.h"
#include "server/metrics/metrics.h"

namespace sg::server {
namespace {

struct ChatCall {
  ServerApp* app = nullptr;
  std::shared_ptr<http::ResponseWriter> writer;
  std::shared_ptr<http::SseStream> stream;  // set once a streamed request got past templating
  std::unique_ptr<AdmissionGate::Permit> permit;
  api::ValidRequest valid;
  RequestTimes times;
  std::string model;  // the response's `model`
  bool logprobs = false;
  bool include_usage = false;

  std::mutex mu;  // guards engine_id, done, permit, tokens (event dispatcher thread vs disconnect)
  uint64_t engine_id = 0;
  bool done = false;  // answered (success or error) or the client left
  std::atomic<bool> gone{false};
  std::vector<TokenInfo> tokens;                   // non-stream
  std::vector<std::vector<TokenInfo>> top_tokens;  // non-stream, one list per token
};

std::string ComputeType() {
  const char* v = std::getenv("COMPUTE_TYPE");
  return v ? v : "cpu";
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

http::Response JsonResponse(int status, std::string body, http::Headers headers = {}) {
  return http::Response{status, "application/json", std::move(headers), std::move(body)};
}

http::Response JsonError(const api::ApiError& e) {
  return JsonResponse(e.status, api::ErrorJson(e));
}

// An error after templating: in-band on a stream (then [DONE]), else the JSON error.
void Fail(ChatCall& call, const api::ApiError& e, FailureReason metric) {
  {
    std::lock_guard lock(call.mu);
    if (call.done) return;
    call.done = true;
    call.permit.reset();  // free before the client can see the answer
  }
  RecordFailure(Routes::GetMetrics(*call.app), metric);
  if (call.stream) {
    call.stream->Send(api::OpenAiStreamErrorJson(e));
    call.stream->Send("[DONE]");
    call.stream->Close();
  } else {
    call.writer->Respond(JsonError(e));
  }
}

// Engine thread: one event.
void OnEvent(const std::shared_ptr<ChatCall>& call, GenerationEvent&& ev) {
  ServerApp& app = *call->app;
  if (ev.error) {
    const bool shutdown = ev.error->kind == GenerationErrorKind::kShutdown;
    Fail(*call,
         shutdown ? api::IncompleteGenerationError(call->stream != nullptr)
                  : api::GenerationFailedError(ev.error->message),
         shutdown ? FailureReason::kIncomplete : FailureReason::kGeneration);
    return;
  }
  const GenerationEnd* end = ev.end ? &*ev.end : nullptr;
  if (call->stream) {
    {
      std::lock_guard lock(call->mu);
      if (call->done) return;
      if (end) {
        call->done = true;
        call->permit.reset();  // free before the client can see the end
      }
    }
    const int64_t now = UnixNow();
    call->stream->Send(
        api::ChatChunkJson(now, call->model, *ev.token, ev.top_tokens, call->logprobs, end));
    if (!end) return;
    if (call->include_usage) {
      call->stream->Send(
          api::ChatUsageChunkJson(now, call->model, end->input_length, end->generated_tokens));
    }
    call->stream->Send("[DONE]");
    call->stream->Close();
  } else {
    std::unique_lock lock(call->mu);
    if (call->done) return;
    call->tokens.push_back(std::move(*ev.token));
    if (call->valid.top_n_tokens > 0) call->top_tokens.push_back(std::move(ev.top_tokens));
    if (!end) return;
    call->done = true;
    call->permit.reset();
    lock.unlock();
    call->writer->Respond(
        JsonResponse(200,
                     api::ChatCompletionJson(UnixNow(), call->model, call->tokens, call->top_tokens,
                                             call->logprobs, *end),
                     call->times.Headers(*end, call->valid, ComputeType())));
  }
  call->times.Finish(*end);
  RecordSuccess(Routes::GetMetrics(app), call->times, *end);
  LogRequest(call->times, *end, call->valid, Routes::Config(app).json_output);
}

// Validation worker: template, permit, validation, submit.
void Run(std::shared_ptr<ChatCall> call, api::ChatRequest request) {
  if (call->gone.load()) return;
  ServerApp& app = *call->app;
  auto prompt = Routes::GetChat(app).Apply(request);
  if (auto* err = std::get_if<api::ApiError>(&prompt)) {
    {
      std::lock_guard lock(call->mu);
      call->done = true;
    }
    if (err->error_type == "template_error") {
      RecordFailure(Routes::GetMetrics(app), FailureReason::kTemplate);
    }
    call->writer->Respond(JsonError(*err));
    return;
  }
  const api::ChatPrompt& p = std::get<api::ChatPrompt>(prompt);
  // TGI counts a chat request twice: in the chat handler and again in the generate path.
  Routes::GetMetrics(app).RequestReceived();
  if (request.stream) {
    call->stream =
        call->writer->StartSse({{"x-compute-type", ComputeType()},
                                {"x-compute-characters", std::to_string(api::CountChars(p.text))}});
  }
  bool admitted = false;
  {
    std::lock_guard lock(call->mu);
    if (call->done) return;  // the client left
    call->permit = Routes::Gate(app).TryAcquire();
    admitted = call->permit != nullptr;
  }
  if (!admitted) return Fail(*call, api::OverloadedError(), FailureReason::kOverloaded);

  thread_local std::mt19937_64 rng{std::random_device{}()};
  api::ValidateOptions options;
  options.streaming = request.stream;
  options.add_special_tokens = false;
  auto valid = api::ValidateGenerate(api::ChatToGenerate(request, p), Routes::GetTokenizer(app),
                                     Routes::ApiLimits(app), options, [] { return rng(); });
  if (auto* err = std::get_if<api::ApiError>(&valid)) {
    return Fail(*call, *err, FailureReason::kValidation);
  }
  call->valid = std::move(std::get<api::ValidRequest>(valid));
  // Logprobs are shown only when asked for; a greedy request without them skips the softmax.
  call->valid.engine.token_logprob = request.logprobs;
  call->times.Validated();
  RecordValidated(Routes::GetMetrics(app), call->valid);
  GenerationRequest req = call->valid.engine;
  req.received = call->times.received;
  const uint64_t id = Routes::GetEngine(app).Submit(
      std::move(req), [call](GenerationEvent&& e) { OnEvent(call, std::move(e)); });
  std::lock_guard lock(call->mu);
  call->engine_id = id;
  if (call->gone.load()) Routes::GetEngine(app).Cancel(id);
}

bool ParseOrRespond(std::string_view body, api::ChatRequest* out, http::ResponseWriter& w) {
  auto parsed = api::ParseChatRequest(body);
  if (auto* e = std::get_if<api::BodyError>(&parsed)) {
    w.Respond({e->status, "text/plain; charset=utf-8", {}, e->message});
    return false;
  }
  *out = std::move(std::get<api::ChatRequest>(parsed));
  return true;
}

void ChatTokenize(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
  api::ChatRequest request;
  if (!ParseOrRespond(req.body, &request, *w)) return;
  if (!app.ready()) return w->Respond(JsonError(api::UnhealthyError()));
  Routes::GetMetrics(app).RequestReceived();
  app.PostValidation([&app, w, r = std::move(request)] {
    auto prompt = Routes::GetChat(app).Apply(r);
    if (auto* err = std::get_if<api::ApiError>(&prompt)) return w->Respond(JsonError(*err));
    const std::string& text = std::get<api::ChatPrompt>(prompt).text;
    const Tokenizer& t = Routes::GetTokenizer(app);
    w->Respond(JsonResponse(
        200, api::ChatTokenizeJson(t.Encode(text, /*add_special_tokens=*/false), text, t)));
  });
}

}  // namespace

void HandleChat(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
  auto call = std::make_shared<ChatCall>();
  call->app = &app;
  call->writer = w;
  call->times.received = std::chrono::steady_clock::now();
  api::ChatRequest request;
  if (!ParseOrRespond(req.body, &request, *w)) return;
  if (!app.ready()) return w->Respond(JsonError(api::UnhealthyError()));
  Routes::GetMetrics(app).RequestReceived();
  call->model =
      request.model && *request.model != "tgi" ? *request.model : Routes::Config(app).model_id;
  call->logprobs = request.logprobs;
  call->include_usage = request.include_usage;
  std::weak_ptr<ChatCall> weak = call;
  w->OnDisconnect([weak, &app] {
    auto c = weak.lock();
    if (!c) return;
    c->gone.store(true);
    std::lock_guard lock(c->mu);
    if (c->done) return;
    c->done = true;
    c->permit.reset();
    if (c->engine_id) Routes::GetEngine(app).Cancel(c->engine_id);
    RecordFailure(Routes::GetMetrics(app), FailureReason::kDropped);
  });
  app.PostValidation(
      [call, r = std::move(request)]() mutable { Run(std::move(call), std::move(r)); });
}

void RegisterChatRoutes(ServerApp& app, http::Server& server) {
  server.Route("POST", "/v1/chat/completions", {/*json_body=*/true, /*protected_=*/true},
               [&app](http::Request&& r, auto w) { HandleChat(app, std::move(r), std::move(w)); });
  // Not behind the API key (TGI).
  server.Route("POST", "/chat_tokenize", {/*json_body=*/true, /*protected_=*/false},
               [&app](http::Request&& r, auto w) { ChatTokenize(app, std::move(r), w); });
}

}  // namespace sg::server
