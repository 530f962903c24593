// `streamgen serve`: the TGI-compatible HTTP server. TGI launcher flags where they apply, each
// also read from TGI's environment variable; the port opens first (/health answers 503 while the
// model loads), then the model loads, the engine warms up and /health turns 200.
// Shutdown on SIGINT/SIGTERM: stop accepting and close idle connections, let generations finish
// until --graceful-termination-timeout, end the rest with their error event (streams) or error
// JSON (the others), let every connection flush its last bytes (up to kFlushTime), exit 0.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/load_progress.h"
#include "engine/core/thread_pool.h"
#include "engine/model/model.h"
#include "engine/serving/engine.h"
#include "engine/text/tokenizer.h"
#include "server/app/async_log.h"
#include "server/app/serve_config.h"
#include "server/app/server_app.h"
#include "server/http/http_server.h"

namespace sg::cli {
namespace {

using server::ServeConfig;

// After the generations ended, how long connections may take to write their last bytes (a
// client that stopped reading is cut off then).
constexpr auto kFlushTime = std::chrono::seconds(5);

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(0.0, seconds) * 1000.0));
}

void AddFlags(CLI::App* cmd, ServeConfig* c) {
  cmd->add_option("--model-id,--model,-m", c->model_id,
                  "GGUF file or Hugging Face folder (default: the bundled demo model)")
      ->envname("MODEL_ID");
  cmd->add_option("--hostname", c->hostname, "IP address to listen on")->envname("HOSTNAME");
  cmd->add_option("--port,-p", c->port, "Port (TGI's launcher default)")->envname("PORT");
  cmd->add_option("--max-concurrent-requests", c->max_concurrent_requests,
                  "Requests in flight; the next is refused with 429 overloaded")
      ->envname("MAX_CONCURRENT_REQUESTS");
  cmd->add_option("--max-best-of", c->max_best_of)->envname("MAX_BEST_OF");
  cmd->add_option("--max-stop-sequences", c->max_stop_sequences)->envname("MAX_STOP_SEQUENCES");
  cmd->add_option("--max-top-n-tokens", c->max_top_n_tokens)->envname("MAX_TOP_N_TOKENS");
  cmd->add_option("--max-input-tokens,--max-input-length", c->max_input_tokens,
                  "Prompt token limit (default: max-total-tokens - 1)")
      ->envname("MAX_INPUT_TOKENS");
  cmd->add_option("--max-total-tokens", c->max_total_tokens,
                  "Prompt + generated token limit per request (default: the model's context)")
      ->envname("MAX_TOTAL_TOKENS");
  cmd->add_option("--max-client-batch-size", c->max_client_batch_size)
      ->envname("MAX_CLIENT_BATCH_SIZE");
  cmd->add_option("--validation-workers", c->validation_workers, "Tokenizer threads")
      ->envname("VALIDATION_WORKERS");
  cmd->add_option("--max-batch-prefill-tokens", c->max_batch_prefill_tokens,
                  "Tokens per engine step; longer prompts are prefilled in chunks")
      ->envname("MAX_BATCH_PREFILL_TOKENS");
  cmd->add_option("--max-batch-total-tokens", c->max_batch_total_tokens,
                  "KV cache size in token positions (default: fits the concurrency, <= 2 GiB)")
      ->envname("MAX_BATCH_TOTAL_TOKENS");
  cmd->add_option("--max-batch-size", c->max_batch_size, "Sequences per engine step")
      ->envname("MAX_BATCH_SIZE");
  cmd->add_option("--kv-cache-dtype", c->kv_cache_dtype,
                  "KV cache element type: f16 (default), f32, or q8_0 (half of f16's memory)")
      ->envname("KV_CACHE_DTYPE")
      ->capture_default_str();
  cmd->add_option("--prefix-caching", c->prefix_caching,
                  "Reuse the KV cache of prompt prefixes seen before (true/false)")
      ->envname("PREFIX_CACHING")
      ->capture_default_str();
  cmd->add_flag("--enable-prefill-logprobs", c->enable_prefill_logprobs,
                "Let decoder_input_details return prompt logprobs")
      ->envname("ENABLE_PREFILL_LOGPROBS");
  cmd->add_flag("--disable-grammar-support", c->disable_grammar_support,
                "Refuse `grammar`, `response_format` and tool use (422 \"grammar is not "
                "supported\"), as TGI does with this flag")
      ->envname("DISABLE_GRAMMAR_SUPPORT");
  cmd->add_option("--api-key", c->api_key, "Bearer key for the generation routes")
      ->envname("API_KEY");
  cmd->add_option("--cors-allow-origin", c->cors_allow_origin, "Allowed origin (repeat)")
      ->envname("CORS_ALLOW_ORIGIN");
  cmd->add_option("--payload-limit", c->payload_limit, "Request body limit in bytes")
      ->envname("PAYLOAD_LIMIT");
  cmd->add_option("--http-idle-timeout", c->http_idle_timeout_s,
                  "Seconds a connection may wait without sending a request (0 = no limit)")
      ->envname("STREAMGEN_HTTP_IDLE_TIMEOUT");
  cmd->add_option("--http-header-timeout", c->http_header_timeout_s,
                  "Seconds from a request's first byte to the end of its head, else 408")
      ->envname("STREAMGEN_HTTP_HEADER_TIMEOUT");
  cmd->add_option("--http-body-timeout", c->http_body_timeout_s,
                  "Longest pause in seconds between request body bytes, else 408")
      ->envname("STREAMGEN_HTTP_BODY_TIMEOUT");
  cmd->add_option("--http-send-timeout", c->http_send_timeout_s,
                  "Seconds a write to a client may take before it is treated as gone")
      ->envname("STREAMGEN_HTTP_SEND_TIMEOUT");
  cmd->add_flag("--json-output", c->json_output, "Log JSON lines")->envname("JSON_OUTPUT");
  cmd->add_option("--graceful-termination-timeout,-g", c->graceful_termination_timeout_s,
                  "Seconds running streams may finish after SIGTERM")
      ->envname("GRACEFUL_TERMINATION_TIMEOUT");
  cmd->add_option("--threads", c->threads, "Compute threads (default: physical cores)")
      ->envname("STREAMGEN_THREADS");
  cmd->add_flag("--no-repack", c->no_repack,
                "Run on the file mapping: no packed copy of the weights on 2 MiB pages (uses "
                "less memory, decodes slower)")
      ->envname("STREAMGEN_NO_REPACK");
  cmd->add_option("--io-threads", c->io_threads, "HTTP I/O threads")
      ->envname("STREAMGEN_IO_THREADS");
  cmd->add_option("--chat-template", c->chat_template,
                  "Jinja chat template file for /v1/chat/completions (overrides the model's)")
      ->envname("STREAMGEN_CHAT_TEMPLATE");
  cmd->add_option("--resumable-streams", c->resumable_streams_s,
                  "Seconds a stream's events are kept for a reconnect with Last-Event-ID (0 = off: "
                  "TGI's framing, a disconnect cancels); see README, Resumable streams")
      ->envname("STREAMGEN_RESUMABLE_STREAMS")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--resumable-stream-buffer-bytes", c->resumable_stream_buffer_bytes,
                  "Per-stream buffer cap; past it the stream is no longer resumable")
      ->envname("STREAMGEN_RESUMABLE_STREAM_BUFFER_BYTES")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--resumable-total-buffer-bytes", c->resumable_total_buffer_bytes,
                  "Cap on all resumable buffers; at it new streams are not resumable")
      ->envname("STREAMGEN_RESUMABLE_TOTAL_BUFFER_BYTES")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

int Serve(ServeConfig config) {
  // Signals are taken by one thread with sigwait: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Before the first thread that logs starts, after the mask (its writer thread inherits it);
  // stopped (queue written out) when Serve returns, after the server and app are gone.
  server::ScopedAsyncLogging async_logging(config.json_output);

  if (config.model_id.empty()) {
    StatusOr<std::string> found = FindDefaultModel();
    if (!found.ok()) {
      spdlog::error("{}", found.status().message());
      return 1;
    }
    config.model_id = *found;
  }
  server::ServerApp app(config);
  http::ServerOptions http_options;
  http_options.hostname = config.hostname;
  http_options.port = config.port;
  http_options.io_threads = config.io_threads;
  http_options.payload_limit = static_cast<size_t>(config.payload_limit);
  http_options.api_key = config.api_key;
  http_options.cors_allow_origins = config.cors_allow_origin;
  http_options.idle_timeout = Millis(config.http_idle_timeout_s);
  http_options.header_timeout = Millis(config.http_header_timeout_s);
  http_options.body_timeout = Millis(config.http_body_timeout_s);
  http_options.send_timeout = Millis(config.http_send_timeout_s);
  auto http_server = http::Server::Create(http_options);
  if (!http_server.ok()) {
    spdlog::error("{}", http_server.status().message());
    return 1;
  }
  app.RegisterRoutes(**http_server);
  if (Status s = (*http_server)->Start(); !s.ok()) {
    spdlog::error("{}", s.message());
    return 1;
  }
  spdlog::info("listening on {}:{} (/health answers 503 until the model is ready)", config.hostname,
               (*http_server)->port());

  // A bar on a terminal unless the logs are JSON lines; log lines otherwise.
  const LoadDisplay display = DefaultLoadDisplay(
      /*allow_bar=*/!config.json_output, [](const std::string& line) { spdlog::info("{}", line); });
  Status ready = app.Load([&](const std::string& path) {
    return LoadModelWithProgress(path, display, !config.no_repack);
  });
  if (!ready.ok()) {
    spdlog::error("{}", ready.message());
    (*http_server)->Stop();
    return 1;
  }
  spdlog::info("ready: serving {} on {}:{}", config.model_id, config.hostname,
               (*http_server)->port());

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("{} received: draining for up to {} s", sig == SIGINT ? "SIGINT" : "SIGTERM",
               config.graceful_termination_timeout_s);
  (*http_server)->BeginShutdown();
  app.Shutdown(std::chrono::steady_clock::now() +
               std::chrono::seconds(config.graceful_termination_timeout_s));
  (*http_server)->Shutdown(std::chrono::steady_clock::now() + kFlushTime);
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, int* exit_code) {
  auto config = std::make_shared<ServeConfig>();
  CLI::App* cmd = app.add_subcommand("serve", "Serve a model over TGI's HTTP API (SSE streaming)");
  AddFlags(cmd, config.get());
  cmd->callback([config, exit_code] { *exit_code = Serve(*config); });
}

}  // namespace sg::cli
