// POST /v1/chat/completions (API contract §9, §2.4) and POST /chat_tokenize (§1.11); /invocations
// hands chat bodies to HandleChat (§1.15).
//
// One request's life: I/O thread (parse: plain-text 400/422) -> validation worker (chat template:
// template and tool errors are HTTP errors even for streams; then, as TGI's generate path, the SSE
// headers, the concurrency permit and validation, which compiles a response_format or tool
// grammar, whose errors arrive in-band on streams as {"error":{"message","http_status_code":422}}
// followed by `data: [DONE]`) -> engine -> event dispatcher thread (one chunk per token, or the
// tool-call chunks of chat_tools.h; the finish chunk, the include_usage chunk, `data: [DONE]`).
// Tools in auto mode: when the model picks `no_tool`, that generation is cancelled (stream) or
// discarded (not streamed) and the request runs again without tools, as TGI does; the same
// permit covers both runs. A disconnect cancels the engine request (with --resumable-streams, a
// stream's client may come back: the cancel waits for the window, server/http/resumable_writer.h).
#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <random>
#include <span>

#include "server/api/chat_json.h"
#include "server/api/chat_prompt.h"
#include "server/api/chat_request.h"
#include "server/api/chat_tools.h"
#include "server/api/tgi_json.h"
#include "server/api/utf8.h"
#include "server/app/request_log.h"
#include "server/app/routes.h"
#include "server/http/resumable_writer.h"
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
  api::ChatRequest request;  // kept for a `no_tool` answer's second run (without tools)
  std::string tool_call_id;  // the streamed tool call's id (§9.5)

  std::mutex mu;  // guards engine_id, done, permit, run (event dispatcher thread vs disconnect)
  uint64_t engine_id = 0;
  bool done = false;  // answered (success or error) or the client left
  std::atomic<bool> gone{false};
  int run = 0;  // generations started: events of a replaced one are ignored
  // Of the current run, set before it is submitted (then read on the event dispatcher thread).
  bool using_tools = false;
  std::optional<api::ToolCallStream> tool_stream;  // streamed tool call
  std::vector<TokenInfo> tokens;                   // non-stream
  std::vector<std::vector<TokenInfo>> top_tokens;  // non-stream, one list per token
};

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
    call.writer->Respond(Routes::JsonError(*call.app, e));
  }
}

void RunWithoutTools(std::shared_ptr<ChatCall> call);

// The text a special token's event carries before the token's own text. The incremental
// detokenizer holds a run of byte-fallback pieces until a non-byte token ends it, so an EOS right
// after one arrives as "}</s>" (the demo model spells braces and quotes with byte pieces). TGI
// sends a special token as content "", which would drop that "}" from a streamed JSON answer:
// we send the held-back text instead. Nullopt when there is none (TGI's "").
std::optional<std::string> HeldBackText(const TokenInfo& token, const Tokenizer& tokenizer) {
  if (!token.special) return std::nullopt;
  const int32_t id = token.id;
  const std::string own = tokenizer.Decode(std::span<const int32_t>(&id, 1), false);
  if (token.text.size() <= own.size() || !token.text.ends_with(own)) return std::nullopt;
  return token.text.substr(0, token.text.size() - own.size());
}

// Event dispatcher thread: the model chose `no_tool`. The current generation is dropped and the
// request runs again without tools on a validation worker (templating and tokenizing are not for
// this thread).
void Regenerate(const std::shared_ptr<ChatCall>& call) {
  uint64_t old = 0;
  {
    std::lock_guard lock(call->mu);
    if (call->done) return;
    ++call->run;  // the dropped generation's remaining events are ignored
    old = call->engine_id;
    call->engine_id = 0;
  }
  if (old) Routes::GetEngine(*call->app).Cancel(old);
  call->app->PostValidation([call]() mutable { RunWithoutTools(std::move(call)); });
}

// Engine thread: one event of generation `run`.
void OnEvent(const std::shared_ptr<ChatCall>& call, int run, GenerationEvent&& ev) {
  {
    std::lock_guard lock(call->mu);
    if (run != call->run) return;
  }
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
    const int64_t now = Routes::UnixNow();
    std::vector<std::string> chunks;
    if (call->tool_stream) {
      const api::ToolCallStream::Chunk c{now, call->model, call->logprobs};
      if (call->tool_stream->Push(*ev.token, ev.top_tokens, end, c, &chunks) ==
          api::ToolCallStream::Step::kNoTool) {
        return Regenerate(call);
      }
    } else {
      const std::optional<std::string> held = HeldBackText(*ev.token, Routes::GetTokenizer(app));
      chunks.push_back(api::ChatChunkJson(now, call->model, *ev.token, ev.top_tokens,
                                          call->logprobs, end, held ? &*held : nullptr));
    }
    {
      std::lock_guard lock(call->mu);
      if (call->done) return;
      if (end) {
        call->done = true;
        call->permit.reset();  // free before the client can see the end
      }
    }
    for (std::string& chunk : chunks) call->stream->Send(std::move(chunk));
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
    std::optional<api::ChatToolCall> tool_call;
    std::optional<api::ApiError> tool_error;
    if (call->using_tools) {
      auto parsed = api::ParseToolCall(end->generated_text);
      if (auto* e = std::get_if<api::ApiError>(&parsed)) {
        tool_error = std::move(*e);
      } else if (std::get<api::ParsedToolCall>(parsed).no_tool) {
        lock.unlock();
        return Regenerate(call);
      } else {
        tool_call = std::move(std::get<api::ParsedToolCall>(parsed).call);
      }
    }
    call->done = true;
    call->permit.reset();
    lock.unlock();
    if (tool_error) {
      // The generation itself succeeded (TGI counts it so), its text is not a tool call.
      call->writer->Respond(Routes::JsonError(*call->app, *tool_error));
    } else {
      call->writer->Respond(Routes::JsonResponse(
          200,
          api::ChatCompletionJson(Routes::UnixNow(), call->model, call->tokens, call->top_tokens,
                                  call->logprobs, *end, tool_call ? &*tool_call : nullptr),
          call->times.Headers(*end, call->valid, Routes::ComputeType())));
    }
  }
  call->times.Finish(*end);
  RecordSuccess(Routes::GetMetrics(app), call->times, *end);
  LogRequest(call->times, *end, call->valid, Routes::Config(app).json_output);
}

// Validation worker: validates one generation of the call (compiling its grammar) and submits it.
void Submit(const std::shared_ptr<ChatCall>& call, const api::ChatRequest& request,
            const api::ChatPrompt& prompt) {
  ServerApp& app = *call->app;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  api::ValidateOptions options;
  options.streaming = request.stream;
  options.add_special_tokens = false;
  auto valid =
      api::ValidateGenerate(api::ChatToGenerate(request, prompt), Routes::GetTokenizer(app),
                            Routes::ApiLimits(app), options, [] { return rng(); });
  if (auto* err = std::get_if<api::ApiError>(&valid)) {
    return Fail(*call, *err, FailureReason::kValidation);
  }
  int run = 0;
  {
    std::lock_guard lock(call->mu);
    call->valid = std::move(std::get<api::ValidRequest>(valid));
    // Logprobs are shown only when asked for; a greedy request without them skips the softmax.
    call->valid.engine.token_logprob = request.logprobs;
    call->using_tools = prompt.using_tools;
    call->tool_stream.reset();
    if (prompt.using_tools && request.stream) call->tool_stream.emplace(call->tool_call_id);
    call->tokens.clear();
    call->top_tokens.clear();
    run = ++call->run;
  }
  call->times.Validated();
  RecordValidated(Routes::GetMetrics(app), call->valid);
  GenerationRequest req = call->valid.engine;
  req.received = call->times.received;
  const uint64_t id = Routes::GetEngine(app).Submit(
      std::move(req), [call, run](GenerationEvent&& e) { OnEvent(call, run, std::move(e)); });
  std::lock_guard lock(call->mu);
  call->engine_id = id;
  if (call->gone.load()) Routes::GetEngine(app).Cancel(id);
}

// Validation worker: the second run after `no_tool` (TGI drops tools and response_format).
void RunWithoutTools(std::shared_ptr<ChatCall> call) {
  if (call->gone.load()) return;
  api::ChatRequest request = call->request;
  request.tools.reset();
  request.has_response_format = false;
  auto prompt = Routes::GetChat(*call->app).Apply(request);
  if (auto* err = std::get_if<api::ApiError>(&prompt)) {
    return Fail(*call, *err, FailureReason::kTemplate);
  }
  Submit(call, request, std::get<api::ChatPrompt>(prompt));
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
    call->writer->Respond(Routes::JsonError(app, *err));
    return;
  }
  const api::ChatPrompt& p = std::get<api::ChatPrompt>(prompt);
  // TGI counts a chat request twice: in the chat handler and again in the generate path.
  Routes::GetMetrics(app).RequestReceived();
  if (request.stream) {
    call->stream =
        call->writer->StartSse({{"x-compute-type", Routes::ComputeType()},
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
  if (p.using_tools) {
    thread_local std::mt19937_64 ids{std::random_device{}()};
    call->tool_call_id = api::NextToolCallId(request.messages, [] { return ids(); });
    call->request = request;
  }
  Submit(call, request, p);
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
  if (!app.ready()) return w->Respond(Routes::JsonError(app, api::UnhealthyError()));
  Routes::GetMetrics(app).RequestReceived();
  app.PostValidation([&app, w, r = std::move(request)] {
    auto prompt = Routes::GetChat(app).Apply(r);
    if (auto* err = std::get_if<api::ApiError>(&prompt))
      return w->Respond(Routes::JsonError(app, *err));
    const std::string& text = std::get<api::ChatPrompt>(prompt).text;
    const Tokenizer& t = Routes::GetTokenizer(app);
    w->Respond(Routes::JsonResponse(
        200, api::ChatTokenizeJson(t.Encode(text, /*add_special_tokens=*/false), text, t)));
  });
}

}  // namespace

void HandleChat(ServerApp& app, http::Request&& req, std::shared_ptr<http::ResponseWriter> w) {
  // A reconnect (Last-Event-ID) is answered here; a new stream becomes resumable.
  if (http::ResumeOrWrap(Routes::Resumable(app), req, &w)) return;
  auto call = std::make_shared<ChatCall>();
  call->app = &app;
  call->writer = w;
  call->times.received = std::chrono::steady_clock::now();
  api::ChatRequest request;
  if (!ParseOrRespond(req.body, &request, *w)) return;
  if (!app.ready()) return w->Respond(Routes::JsonError(app, api::UnhealthyError()));
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
