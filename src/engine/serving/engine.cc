#include "engine/serving/engine.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <utility>

#include "engine/runtime/executor.h"
#include "engine/scheduler/scheduler.h"
#include "engine/serving/event_dispatcher.h"
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
    eo.prefix_caching = options_.prefix_caching;
    SG_ASSIGN_OR_RETURN(executor_, Executor::Create(model_, pool_, eo));
    vocab_ = static_cast<int32_t>(model_.config.vocab_size);
    logits_.resize(static_cast<size_t>(LogitRows(options_)) * vocab_);
    jobs_.resize(static_cast<size_t>(options_.max_batch_size));
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
    dispatcher_.Stop();
  }

  // Any thread: the dispatcher's counters are copied in here, so they are current even while the
  // engine thread sleeps.
  const EngineStats& stats() const {
    stats_.delivery_nanos.store(static_cast<int64_t>(dispatcher_.delivery_nanos()),
                                std::memory_order_relaxed);
    stats_.events_delivered.store(static_cast<int64_t>(dispatcher_.delivered()),
                                  std::memory_order_relaxed);
    return stats_;
  }
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
        auto work = [&] {
          return !inbox_.empty() || !cancels_.empty() || stopping_ || !seqs_.empty();
        };
        if (dispatcher_.has_unpublished()) {
          // Events wait for a free ring slot (the dispatcher is behind): retry shortly rather
          // than sleep on them.
          cv_.wait_for(lock, std::chrono::milliseconds(1), work);
        } else {
          cv_.wait(lock, work);
        }
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
        return;  // Shutdown then stops the dispatcher, which delivers what is queued
      }
      if (!seqs_.empty()) {
        const auto t0 = std::chrono::steady_clock::now();
        RunStep();
        AddNanos(stats_.step_nanos, t0);
      }
      const auto t1 = std::chrono::steady_clock::now();
      dispatcher_.Publish();  // this iteration's events, once; the callbacks run off this thread
      AddNanos(stats_.handoff_nanos, t1);
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
      dispatcher_.Add(std::make_shared<EventTarget>(std::move(p.callback)), std::move(e));
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
    // Its events still queued in the dispatcher are not delivered (the client is gone).
    if (cancelled) it->second->callback->cancelled.store(true, std::memory_order_release);
    scheduler_.Remove(id);
    seqs_.erase(it);
    if (cancelled) stats_.cancelled.fetch_add(1, std::memory_order_relaxed);
  }

  void FailAll(GenerationErrorKind kind, const std::string& message) {
    for (auto& [id, state] : seqs_) {
      GenerationEvent e;
      e.error = GenerationError{kind, message};
      dispatcher_.Add(state->callback, std::move(e));
      scheduler_.Remove(id);
    }
    seqs_.clear();
  }

  // A sequence is admitted into a step: its KV allocation, with the longest cached prefix of its
  // prompt adopted (all but its last position, whose logits the first token needs). Returns the
  // positions adopted.
  int64_t OnAdmit(uint64_t id, SteadyTime now) {
    SequenceState& st = *seqs_.at(id);
    st.admitted = true;
    st.timing.admitted = now;
    st.kv = executor_->NewSequence();
    st.StartSampling();
    if (!st.request.prefill_logprobs) {
      st.cached_tokens = st.kv.AdoptCachedPrefix(st.request.prompt_ids, st.prompt_length() - 1);
    }
    return st.cached_tokens;
  }

  void RunStep() {
    const SteadyTime now = std::chrono::steady_clock::now();
    // Admission against the KV pool itself (scheduler.h, the block ledger): a prompt prefix
    // shared through the prefix cache is paid for once, not once per user.
    const KvBlockPool& pool = executor_->kv_pool();
    auto free_blocks = [&] { return pool.num_free_blocks(); };
    auto held_blocks = [&](uint64_t id) {
      return static_cast<int64_t>(seqs_.at(id)->kv.blocks().size());
    };
    auto cached_prefix = [&](uint64_t id) {
      const SequenceState& st = *seqs_.at(id);
      if (st.request.prefill_logprobs) return KvLedger::CachedPrefix{};
      const CachedPrefixPeek peek =
          pool.PeekCachedPrefix(st.request.prompt_ids, st.prompt_length() - 1);
      return KvLedger::CachedPrefix{peek.blocks, peek.unused_blocks};
    };
    const KvLedger ledger{free_blocks, held_blocks, cached_prefix};
    StepPlan plan = scheduler_.Schedule([&](uint64_t id) { return OnAdmit(id, now); }, ledger);
    if (plan.empty()) return;
    batch_.clear();
    for (const ScheduledSequence& s : plan.sequences) {
      SequenceState& st = *seqs_.at(s.id);
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
        dispatcher_.Add(it->second->callback, std::move(e));
        Drop(s.id, false);
      }
      return;
    }
    scheduler_.OnStepDone(plan);
    for (const ScheduledSequence& s : plan.sequences) {
      SequenceState& st = *seqs_.at(s.id);
      if (s.start < st.prompt_length()) st.kv.PublishPrefix(st.request.prompt_ids);
    }
    const SteadyTime done = std::chrono::steady_clock::now();
    int64_t row = 0, num_jobs = 0;
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
      SampleJob& job = jobs_[num_jobs++];
      job.state = &st;
      job.logits = first + (n_rows - 1) * vocab_;
    }
    // Sampling, stop checks and detokenizing of every sequence that gets a token, split over the
    // pool: a job touches only its own sequence's sampler, stop criteria and detokenizer (the
    // tokenizer is read-only), so the step's sampling costs its longest job, not the sum.
    pool_.ParallelFor(num_jobs, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j) {
        SampleJob& job = jobs_[j];
        SequenceState& st = *job.state;
        job.top.clear();
        const SampledToken token =
            st.sampler->Sample(std::span<float>(job.logits, static_cast<size_t>(vocab_)),
                               st.request.top_n_tokens, &job.top, st.request.token_logprob);
        job.event = st.AcceptToken(token, job.top, done);
      }
    });
    for (int64_t j = 0; j < num_jobs; ++j) {
      SequenceState& st = *jobs_[j].state;
      const uint64_t id = st.id;
      const bool finished = jobs_[j].event.end.has_value();
      dispatcher_.Add(st.callback, std::move(jobs_[j].event));  // reassigned by the next step
      if (finished) {
        Drop(id, false);
      } else {
        scheduler_.OnTokenAppended(id);
      }
    }
  }

  static void AddNanos(std::atomic<int64_t>& counter, std::chrono::steady_clock::time_point since) {
    counter.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - since)
                          .count(),
                      std::memory_order_relaxed);
  }

  void UpdateStats() {
    stats_.queue_size.store(scheduler_.num_waiting(), std::memory_order_relaxed);
    stats_.running.store(scheduler_.num_running(), std::memory_order_relaxed);
    stats_.reserved_tokens.store(scheduler_.reserved_tokens(), std::memory_order_relaxed);
    const KvBlockPool& kv = executor_->kv_pool();
    stats_.kv_blocks_free.store(kv.num_free_blocks(), std::memory_order_relaxed);
    stats_.kv_blocks_cached.store(kv.num_cached_blocks(), std::memory_order_relaxed);
    const PrefixCacheCounters& c = kv.prefix_counters();
    stats_.prefix_queried_tokens.store(c.queried_tokens, std::memory_order_relaxed);
    stats_.prefix_hit_tokens.store(c.hit_tokens, std::memory_order_relaxed);
    stats_.prefix_evictions.store(c.evictions, std::memory_order_relaxed);
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
  // One per sequence that gets a token in a step; sized max_batch_size once (Init).
  struct SampleJob {
    SequenceState* state = nullptr;
    float* logits = nullptr;  // its row in logits_
    std::vector<SampledToken> top;
    GenerationEvent event;
  };
  std::vector<SampleJob> jobs_;
  std::unordered_map<uint64_t, std::unique_ptr<SequenceState>> seqs_;  // engine thread only
  mutable EngineStats stats_;   // atomics; stats() refreshes the dispatcher's two from any thread
  EventDispatcher dispatcher_;  // Add/Publish on the engine thread; Stop after it joined

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
