#include "engine/serving/engine.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include "engine/runtime/executor.h"
#include "engine/scheduler/scheduler.h"
#include "engine/serving/sequence_state.h"

namespace sg {

class Engine::Impl {
 public:
  Impl(const Model& model, const Tokenizer& tokenizer, ThreadPool& pool,
       const EngineOptions& options)
      : model_(model),
        tokenizer_(tokenizer),
        pool_(pool),
        options_(options),
        scheduler_(SchedulerConfig{options.max_batch_prefill_tokens, options.max_batch_total_tokens,
                                   options.max_batch_size, kKvBlockTokens,
                                   ExtraLogitRows(options)}) {}

  Status Init() {
    ExecutorOptions eo;
    eo.max_batch_tokens = options_.max_batch_prefill_tokens;
    eo.max_sequences = options_.max_batch_size;
    eo.kv_token_budget = options_.max_batch_total_tokens;
    eo.max_tokens_per_sequence = options_.max_total_tokens;
    eo.kv_dtype = options_.kv_dtype;
    SG_ASSIGN_OR_RETURN(executor_, Executor::Create(model_, pool_, eo));
    vocab_ = static_cast<int32_t>(model_.config.vocab_size);
    logits_.resize(static_cast<size_t>(LogitRows(options_)) * vocab_);
    stats_.kv_blocks_total = executor_->kv_pool().num_blocks();
    stats_.kv_blocks_free = executor_->kv_pool().num_free_blocks();
    return OkStatus();
  }

  Status WarmUp() {
    KvAllocation kv = executor_->NewSequence();
    const int32_t bos = tokenizer_.settings().bos_token_id.value_or(0);
    std::vector<int32_t> tokens = {bos, bos, bos, bos};
    StepSequence seq{tokens, 0, &kv, false};
    return executor_->Step(std::span<const StepSequence>(&seq, 1),
                           std::span<float>(logits_.data(), vocab_));
  }

  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }

  uint64_t Submit(GenerationRequest request, GenerationCallback on_event) {
    std::unique_lock lock(mu_);
    const uint64_t id = next_id_++;
    if (stopping_) {
      lock.unlock();
      GenerationEvent e;
      e.error = GenerationError{GenerationErrorKind::kShutdown, "the server is shutting down"};
      on_event(std::move(e));
      return id;
    }
    inbox_.push_back({id, std::move(request), std::move(on_event)});
    cv_.notify_one();
    return id;
  }

  void Cancel(uint64_t id) {
    std::lock_guard lock(mu_);
    cancels_.push_back(id);
    cv_.notify_one();
  }

  void Shutdown(std::chrono::steady_clock::time_point deadline) {
    {
      std::lock_guard lock(mu_);
      if (!stopping_) {
        stopping_ = true;
        deadline_ = deadline;
      }
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  const EngineStats& stats() const { return stats_; }
  const EngineOptions& options() const { return options_; }
  int64_t logits_buffer_bytes() const {
    return static_cast<int64_t>(logits_.size() * sizeof(float));
  }

 private:
  struct Pending {
    uint64_t id;
    GenerationRequest request;
    GenerationCallback callback;
  };

  // The logits buffer holds the rows a step samples, not one per batch token. A step writes one
  // row per sequence (at most min(max_batch_size, max_batch_prefill_tokens) of them) plus, for a
  // sequence that wants prompt logprobs, one per further prompt token of its chunk; the scheduler
  // caps those extra rows at ExtraLogitRows. A step never writes more rows than it has tokens, so
  // when max_batch_prefill_tokens is the smaller bound no cap is needed.
  static int64_t LogitRows(const EngineOptions& o) {
    return std::min(o.max_batch_prefill_tokens,
                    o.max_batch_size + std::max<int64_t>(0, o.prompt_logprob_rows));
  }
  static int64_t ExtraLogitRows(const EngineOptions& o) {
    if (LogitRows(o) == o.max_batch_prefill_tokens) return std::numeric_limits<int64_t>::max();
    return LogitRows(o) - std::min(o.max_batch_size, o.max_batch_prefill_tokens);
  }

  void Loop() {
    for (;;) {
      std::vector<Pending> inbox;
      std::vector<uint64_t> cancels;
      bool stopping;
      std::chrono::steady_clock::time_point deadline;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] {
          return !inbox_.empty() || !cancels_.empty() || stopping_ || !seqs_.empty();
        });
        inbox.swap(inbox_);
        cancels.swap(cancels_);
        stopping = stopping_;
        deadline = deadline_;
      }
      for (Pending& p : inbox) Admit(std::move(p));
      for (uint64_t id : cancels) Drop(id, /*cancelled=*/true);
      if (stopping && (seqs_.empty() || std::chrono::steady_clock::now() >= deadline)) {
        FailAll(GenerationErrorKind::kShutdown, "the server shut down before the generation ended");
        UpdateStats();
        return;
      }
      if (!seqs_.empty()) RunStep();
      UpdateStats();
    }
  }

  void Admit(Pending&& p) {
    const int64_t prompt = static_cast<int64_t>(p.request.prompt_ids.size());
    const int64_t max_new = p.request.stopping.max_new_tokens;
    p.request.received =
        p.request.received == SteadyTime{} ? std::chrono::steady_clock::now() : p.request.received;
    if (prompt < 1 || max_new < 1 ||
        !scheduler_.Add(p.id, prompt, max_new, p.request.prefill_logprobs)) {
      GenerationEvent e;
      e.error = GenerationError{GenerationErrorKind::kGeneration,
                                "the request does not fit the KV cache (--max-batch-total-tokens)"};
      p.callback(std::move(e));
      return;
    }
    auto state = std::make_unique<SequenceState>(p.id, std::move(p.request), std::move(p.callback),
                                                 tokenizer_, options_.eos_ids, vocab_);
    state->timing.queued = std::chrono::steady_clock::now();
    seqs_.emplace(p.id, std::move(state));
  }

  // Forgets a sequence; its KV blocks return to the pool when its state is destroyed.
  void Drop(uint64_t id, bool cancelled) {
    auto it = seqs_.find(id);
    if (it == seqs_.end()) return;
    scheduler_.Remove(id);
    seqs_.erase(it);
    if (cancelled) stats_.cancelled.fetch_add(1, std::memory_order_relaxed);
  }

  void FailAll(GenerationErrorKind kind, const std::string& message) {
    for (auto& [id, state] : seqs_) {
      GenerationEvent e;
      e.error = GenerationError{kind, message};
      state->callback(std::move(e));
      scheduler_.Remove(id);
    }
    seqs_.clear();
  }

  void RunStep() {
    StepPlan plan = scheduler_.Schedule();
    if (plan.empty()) return;
    const SteadyTime now = std::chrono::steady_clock::now();
    batch_.clear();
    for (const ScheduledSequence& s : plan.sequences) {
      SequenceState& st = *seqs_.at(s.id);
      if (!st.admitted) {
        st.admitted = true;
        st.timing.admitted = now;
        st.kv = executor_->NewSequence();
      }
      const bool all = st.request.prefill_logprobs && s.start < st.prompt_length();
      batch_.push_back(StepSequence{
          std::span<const int32_t>(st.ids.data() + s.start, static_cast<size_t>(s.num_tokens)),
          s.start, &st.kv, all});
    }
    // The whole buffer: the executor checks that the step's rows fit (the scheduler ensures it).
    Status status = executor_->Step(batch_, logits_);
    (plan.has_prefill ? stats_.steps_prefill : stats_.steps_decode)
        .fetch_add(1, std::memory_order_relaxed);
    if (!status.ok()) {
      for (const ScheduledSequence& s : plan.sequences) {
        auto it = seqs_.find(s.id);
        GenerationEvent e;
        e.error = GenerationError{GenerationErrorKind::kGeneration, status.message()};
        it->second->callback(std::move(e));
        Drop(s.id, false);
      }
      return;
    }
    scheduler_.OnStepDone(plan);
    const SteadyTime done = std::chrono::steady_clock::now();
    int64_t row = 0;
    for (size_t i = 0; i < plan.sequences.size(); ++i) {
      const ScheduledSequence& s = plan.sequences[i];
      const int64_t n_rows = batch_[i].all_logits ? s.num_tokens : 1;
      float* first = logits_.data() + row * vocab_;
      row += n_rows;
      SequenceState& st = *seqs_.at(s.id);
      if (batch_[i].all_logits) {
        st.AddPrefillLogprobs(s.start, std::span<const float>(first, n_rows * vocab_), n_rows,
                              vocab_);
      }
      if (!s.completes_prompt) continue;
      std::span<float> last(first + (n_rows - 1) * vocab_, vocab_);
      top_.clear();
      SampledToken token =
          st.sampler.Sample(last, st.request.top_n_tokens, &top_, st.request.token_logprob);
      GenerationEvent event = st.AcceptToken(token, top_, done);
      const bool finished = event.end.has_value();
      st.callback(std::move(event));
      if (finished) {
        Drop(s.id, false);
      } else {
        scheduler_.OnTokenAppended(s.id);
      }
    }
  }

  void UpdateStats() {
    stats_.queue_size.store(scheduler_.num_waiting(), std::memory_order_relaxed);
    stats_.running.store(scheduler_.num_running(), std::memory_order_relaxed);
    stats_.reserved_tokens.store(scheduler_.reserved_tokens(), std::memory_order_relaxed);
    stats_.kv_blocks_free.store(executor_->kv_pool().num_free_blocks(), std::memory_order_relaxed);
  }

  const Model& model_;
  const Tokenizer& tokenizer_;
  ThreadPool& pool_;
  EngineOptions options_;
  std::unique_ptr<Executor> executor_;
  Scheduler scheduler_;  // engine thread only
  int32_t vocab_ = 0;
  std::vector<float> logits_;  // {LogitRows(options_), vocab}
  std::vector<StepSequence> batch_;
  std::vector<SampledToken> top_;
  std::unordered_map<uint64_t, std::unique_ptr<SequenceState>> seqs_;  // engine thread only
  EngineStats stats_;

  std::mutex mu_;  // guards the inbox, cancels and the stop request
  std::condition_variable cv_;
  std::vector<Pending> inbox_;
  std::vector<uint64_t> cancels_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point deadline_{};
  std::thread thread_;
};

StatusOr<std::unique_ptr<Engine>> Engine::Create(const Model& model, const Tokenizer& tokenizer,
                                                 ThreadPool& pool, const EngineOptions& options) {
  if (options.max_batch_prefill_tokens < 1 || options.max_batch_size < 1 ||
      options.max_batch_total_tokens < options.max_total_tokens || options.max_total_tokens < 2) {
    return InvalidArgumentError(
        "engine options: need max_batch_prefill_tokens >= 1, max_batch_size >= 1, "
        "max_total_tokens >= 2 and max_batch_total_tokens >= max_total_tokens");
  }
  auto impl = std::make_unique<Impl>(model, tokenizer, pool, options);
  SG_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() { impl_->Shutdown(std::chrono::steady_clock::now()); }
Status Engine::WarmUp() { return impl_->WarmUp(); }
void Engine::Start() { impl_->Start(); }
uint64_t Engine::Submit(GenerationRequest request, GenerationCallback on_event) {
  return impl_->Submit(std::move(request), std::move(on_event));
}
void Engine::Cancel(uint64_t id) { impl_->Cancel(id); }
void Engine::Shutdown(std::chrono::steady_clock::time_point deadline) { impl_->Shutdown(deadline); }
const EngineStats& Engine::stats() const { return impl_->stats(); }
const EngineOptions& Engine::options() const { return impl_->options(); }
int64_t Engine::logits_buffer_bytes() const { return impl_->logits_buffer_bytes(); }

}  // namespace sg
