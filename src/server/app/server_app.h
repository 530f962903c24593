// The application behind `streamgen serve`: owns the model, tokenizer, compute pool, engine,
// admission gate, validation workers and metrics, and registers every route on the HTTP server.
// The glue between the HTTP layer (server/http), the TGI/OpenAI types (server/api) and the engine
// (engine/serving); route handlers live in generate_routes.cc, completions_route.cc,
// chat_route.cc and info_routes.cc.
//
// Thread rules: RegisterRoutes before the server starts; Load once on the main thread (the routes
// answer 503 until it succeeded); Shutdown once. Handlers run on HTTP I/O threads and never block:
// tokenization and validation run on the validation workers, generation on the engine thread,
// events (JSON, SSE, metrics, logs) on the engine's event dispatcher thread.
#pragma once

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "engine/constrain/grammar.h"
#include "engine/core/status.h"
#include "engine/core/thread_pool.h"
#include "engine/model/model.h"
#include "engine/serving/engine.h"
#include "engine/text/tokenizer.h"
#include "server/app/admission.h"
#include "server/app/serve_config.h"
#include "server/http/http_server.h"

namespace sg::api {
class ChatPrompter;
}
namespace sg::http {
class ResumableStreams;
}

namespace sg::server {

class Metrics;

// The limits after automatic resolution (API contract §5.1), as /info reports them.
struct ResolvedLimits {
  int64_t max_input_tokens = 0;
  int64_t max_total_tokens = 0;
  int64_t max_batch_prefill_tokens = 0;
  int64_t max_batch_total_tokens = 0;
  int64_t max_batch_size = 0;
  DType kv_dtype = DType::kF16;
};

class ServerApp {
 public:
  explicit ServerApp(const ServeConfig& config);
  ~ServerApp();

  void RegisterRoutes(http::Server& server);

  // How the model is loaded: LoadModel by default; the CLI passes one that reads the weights in
  // with a progress display.
  using ModelLoader = std::function<StatusOr<std::unique_ptr<Model>>(const std::string& path)>;

  // Loads the model and tokenizer, prints the startup summary, builds and warms up the engine.
  Status Load(const ModelLoader& load_model = LoadModel);

  // Stops admitting, drains until `deadline`, fails what is left, stops the workers.
  void Shutdown(std::chrono::steady_clock::time_point deadline);

  bool ready() const { return ready_.load(std::memory_order_acquire); }

  // Runs `job` (validation, tokenization, then Submit) on a validation worker. Once Shutdown has
  // closed the workers it runs on the caller's thread instead, so a request read during shutdown
  // still gets its answer (the engine's shutdown error) rather than waiting for a worker that
  // will never come. Any thread.
  template <typename Fn>
  void PostValidation(Fn job) {
    {
      std::lock_guard lock(validation_mu_);
      if (!validation_closed_) {
        boost::asio::post(validation_, std::move(job));
        return;
      }
    }
    job();
  }

 private:
  friend class Routes;
  ServeConfig config_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<api::ChatPrompter> chat_;  // the chat template(s), compiled at Load
  // Compiled grammars over this model's vocabulary; null with --disable-grammar-support (or a
  // tokenizer whose tokens have no byte strings): grammars are then refused.
  std::unique_ptr<GrammarCache> grammars_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Engine> engine_;
  ResolvedLimits limits_;
  AdmissionGate gate_;
  boost::asio::thread_pool validation_;
  std::mutex validation_mu_;
  bool validation_closed_ = false;  // guarded by validation_mu_
  std::unique_ptr<Metrics> metrics_;
  // Null unless --resumable-streams; its sweeper thread runs from construction to destruction.
  std::shared_ptr<http::ResumableStreams> resumable_;
  std::atomic<bool> ready_{false};
};

}  // namespace sg::server
