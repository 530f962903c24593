#include "server/app/server_app.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>

#include "engine/constrain/token_index.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/runtime/kv_block_pool.h"
#include "engine/text/chat_template_source.h"
#include "engine/text/token_bytes.h"
#include "server/api/chat_prompt.h"
#include "server/app/routes.h"
#include "server/http/resumable_streams.h"
#include "server/metrics/metrics.h"

namespace sg::server {
namespace {

int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// K and V of one token position over all layers, in the cache's element type.
int64_t KvBytesPerToken(const ModelConfig& m, DType kv_dtype) {
  return m.num_layers * 2 * m.num_kv_heads *
         std::max<int64_t>(1, KvHeadBytes(kv_dtype, m.head_dim));
}

// Automatic limits (API contract §5.1, adapted to a CPU): max_total_tokens = the model's context;
// max_input_tokens = max_total_tokens - 1; the KV cache holds every admitted request at its full
// length (max_concurrent_requests x max_total_tokens positions) but at most 2 GiB; a step computes
// at most 256 tokens so a long prompt, chunked, never stalls running streams for long: measured
// with bench/serve_tradeoff.mjs (16 streams decoding, ~1 000-token prompts arriving, 135M-shape
// Q4_K_M, 2-core EPYC), 512 cut the long prompts' TTFT by 15% but nearly doubled the running
// streams' p99 inter-token latency (0.88 s -> 1.65 s); the GEMM is already efficient at 256.
StatusOr<ResolvedLimits> ResolveLimits(const ServeConfig& c, const Model& model) {
  ResolvedLimits r;
  const ModelConfig& m = model.config;
  r.max_total_tokens = c.max_total_tokens > 0 ? c.max_total_tokens : m.max_context;
  if (r.max_total_tokens < 2) {
    return InvalidArgumentError("Argument validation error: `max_total_tokens` must be >= 2");
  }
  r.max_input_tokens = c.max_input_tokens > 0 ? c.max_input_tokens : r.max_total_tokens - 1;
  if (r.max_input_tokens >= r.max_total_tokens) {
    return InvalidArgumentError(
        "Invalid argument: `max_input_tokens`(" + std::to_string(r.max_input_tokens) +
        ") must be < `max_total_tokens`(" + std::to_string(r.max_total_tokens) + ")");
  }
  SG_ASSIGN_OR_RETURN(r.kv_dtype, ParseKvCacheDType(c.kv_cache_dtype));
  const int64_t kv_bytes_per_token = KvBytesPerToken(m, r.kv_dtype);
  const int64_t memory_tokens = (int64_t{2} << 30) / std::max<int64_t>(1, kv_bytes_per_token);
  r.max_batch_total_tokens =
      c.max_batch_total_tokens > 0
          ? c.max_batch_total_tokens
          : std::max(r.max_total_tokens,
                     std::min(c.max_concurrent_requests * r.max_total_tokens, memory_tokens));
  r.max_batch_total_tokens = RoundUp(r.max_batch_total_tokens, kKvBlockTokens);
  if (r.max_total_tokens > r.max_batch_total_tokens) {
    return InvalidArgumentError(
        "Argument validation error: `max_total_tokens` must be <= `max_batch_total_tokens`");
  }
  r.max_batch_prefill_tokens = c.max_batch_prefill_tokens > 0
                                   ? c.max_batch_prefill_tokens
                                   : std::min<int64_t>(256, RoundUp(r.max_input_tokens, 16));
  r.max_batch_size =
      c.max_batch_size > 0 ? c.max_batch_size : std::min<int64_t>(c.max_concurrent_requests, 512);
  r.max_batch_prefill_tokens = std::max(r.max_batch_prefill_tokens, r.max_batch_size);
  return r;
}

// The startup summary: what is served and on what.
void LogModelSummary(const std::string& path, const Model& model, const Tokenizer& tokenizer) {
  std::map<std::string, uint64_t> bytes_by_type;
  uint64_t params = 0, bytes = 0;
  for (const auto& [name, view] : model.tensors.all()) {
    int64_t n = 1;
    for (int64_t d : view.shape) n *= d;
    params += static_cast<uint64_t>(n);
    bytes += view.nbytes;
    bytes_by_type[std::string(DTypeName(view.type))] += view.nbytes;
  }
  std::string dominant;
  uint64_t most = 0;
  for (const auto& [type, b] : bytes_by_type) {
    if (b > most) {
      most = b;
      dominant = type;
    }
  }
  const ModelConfig& c = model.config;
  spdlog::info(
      "model: {} | architecture {} | {:.2f} M parameters | weights {} ({:.1f} MiB mapped) | "
      "context {} | vocab {} | {} layers, {} heads ({} KV), head_dim {} | SIMD {}",
      path, ArchName(c.arch), params / 1e6, dominant, bytes / 1048576.0, c.max_context,
      tokenizer.vocab_size(), c.num_layers, c.num_heads, c.num_kv_heads, c.head_dim,
      SimdTargetName());
}

}  // namespace

ServerApp::ServerApp(const ServeConfig& config)
    : config_(config),
      gate_(config.max_concurrent_requests),
      validation_(static_cast<size_t>(std::max<int64_t>(1, config.validation_workers))) {
  if (config.resumable_streams_s > 0) {
    http::ResumableOptions o;
    o.window = std::chrono::milliseconds(static_cast<int64_t>(config.resumable_streams_s * 1000));
    // A replay is queued on the new connection at once: it must stay under the slow-reader limit
    // (http::ServerOptions::max_stream_pending_bytes), or the resumed connection would be dropped.
    const int64_t replay_limit =
        static_cast<int64_t>(http::ServerOptions{}.max_stream_pending_bytes / 2);
    if (config.resumable_stream_buffer_bytes > replay_limit) {
      spdlog::warn("--resumable-stream-buffer-bytes {} lowered to {} (half the slow-reader limit)",
                   config.resumable_stream_buffer_bytes, replay_limit);
    }
    o.max_stream_bytes = static_cast<size_t>(
        std::clamp<int64_t>(config.resumable_stream_buffer_bytes, 1, replay_limit));
    o.max_total_bytes =
        static_cast<size_t>(std::max<int64_t>(1, config.resumable_total_buffer_bytes));
    resumable_ = http::ResumableStreams::Create(o);
    resumable_->Start();
  }
}

ServerApp::~ServerApp() {
  if (resumable_) {
    resumable_->Stop();
    resumable_->SetObserver(nullptr);  // streams still held by handlers must not reach metrics_
  }
  validation_.join();
}

Status ServerApp::Load(const ModelLoader& load_model) {
  const auto t0 = std::chrono::steady_clock::now();
  SG_ASSIGN_OR_RETURN(model_, load_model(config_.model_id));
  SG_ASSIGN_OR_RETURN(tokenizer_, Tokenizer::Load(config_.model_id));
  LogModelSummary(config_.model_id, *model_, *tokenizer_);
  // The chat template compiles now (TGI panics at startup on a template minijinja cannot parse);
  // a model without one still serves, and chat requests answer "template not found".
  SG_ASSIGN_OR_RETURN(ChatTemplateSource chat_source,
                      LoadChatTemplateSource(config_.model_id, config_.chat_template));
  SG_ASSIGN_OR_RETURN(chat_, api::ChatPrompter::Create(chat_source));
  if (chat_->has_template()) {
    spdlog::info("chat template: {}{}", chat_source.origin,
                 chat_source.tool_use_template.empty() ? "" : " (with a tool_use template)");
  } else {
    spdlog::info(
        "chat template: none (chat requests answer 422 \"Template error: template not "
        "found\"; pass --chat-template FILE)");
  }
  SG_ASSIGN_OR_RETURN(limits_, ResolveLimits(config_, *model_));
  const int threads = config_.threads > 0
                          ? config_.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<ThreadPool>(threads);
  EngineOptions eo;
  eo.max_batch_prefill_tokens = limits_.max_batch_prefill_tokens;
  eo.max_batch_total_tokens = limits_.max_batch_total_tokens;
  eo.max_batch_size = limits_.max_batch_size;
  eo.max_total_tokens = limits_.max_total_tokens;
  eo.kv_dtype = limits_.kv_dtype;
  eo.prefix_caching = config_.prefix_caching;
  if (auto eos = tokenizer_->settings().eos_token_id) eo.eos_ids.push_back(*eos);
  if (model_->config.eos_token_id >= 0 &&
      std::find(eo.eos_ids.begin(), eo.eos_ids.end(), model_->config.eos_token_id) ==
          eo.eos_ids.end()) {
    eo.eos_ids.push_back(model_->config.eos_token_id);
  }
  if (config_.disable_grammar_support) {
    spdlog::info("grammar: disabled (--disable-grammar-support)");
  } else {
    // Once per model (a two-token decode per vocabulary entry): every grammar compiled later
    // masks over these bytes.
    const auto g0 = std::chrono::steady_clock::now();
    std::vector<std::string> bytes = TokenByteStrings(*tokenizer_);
    if (bytes.empty()) {
      spdlog::warn(
          "grammar: this tokenizer's decoding is not per-token bytes; grammar, response_format "
          "and tools are refused");
    } else {
      grammars_ = std::make_unique<GrammarCache>(
          std::make_shared<const TokenIndex>(std::move(bytes), eo.eos_ids));
      spdlog::info(
          "grammar: token index of {} tokens built in {:.0f} ms", grammars_->index().vocab_size(),
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - g0).count());
    }
  }
  SG_ASSIGN_OR_RETURN(engine_, Engine::Create(*model_, *tokenizer_, *pool_, eo));
  SG_RETURN_IF_ERROR(engine_->WarmUp());
  engine_->Start();
  Routes::OnLoaded(*this);
  if (resumable_) {
    resumable_->SetObserver([m = metrics_.get()](const http::ResumableCounts& c) {
      m->SetResumableStreams({c.streams, c.detached, c.bytes, c.expired, c.resumed});
    });
    spdlog::info(
        "resumable streams: kept {:.1f} s without a client or after the end; buffers of at most "
        "{} bytes per stream, {} in all",
        config_.resumable_streams_s, resumable_->options().max_stream_bytes,
        resumable_->options().max_total_bytes);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info(
      "engine: {} threads, max_input_tokens {}, max_total_tokens {}, max_batch_prefill_tokens "
      "{}, max_batch_total_tokens {} (KV {} {:.1f} MiB, prefix caching {}), max_batch_size {}, "
      "max_concurrent_requests {}; ready in {:.2f} s",
      threads, limits_.max_input_tokens, limits_.max_total_tokens, limits_.max_batch_prefill_tokens,
      limits_.max_batch_total_tokens, KvCacheDTypeName(limits_.kv_dtype),
      static_cast<double>(engine_->stats().kv_blocks_total.load() * kKvBlockTokens *
                          KvBytesPerToken(model_->config, limits_.kv_dtype)) /
          (1 << 20),
      eo.prefix_caching ? "on" : "off", limits_.max_batch_size, config_.max_concurrent_requests,
      seconds);
  ready_.store(true, std::memory_order_release);
  return OkStatus();
}

void ServerApp::Shutdown(std::chrono::steady_clock::time_point deadline) {
  // Streams without a client are cancelled now (the listener is closed: nobody can come back),
  // so they do not keep the engine busy until the deadline.
  if (resumable_) resumable_->BeginShutdown();
  if (engine_) engine_->Shutdown(deadline);
  {
    std::lock_guard lock(validation_mu_);
    validation_closed_ = true;
  }
  validation_.join();  // runs what was queued: each Submit now gets the shutdown error
}

void ServerApp::RegisterRoutes(http::Server& server) { Routes::Register(*this, server); }

}  // namespace sg::server
