// The serving engine: ONE engine thread runs the step loop (scheduler -> executor step ->
// samplers -> detokenizers -> stop criteria -> events); HTTP threads only Submit / Cancel through
// a mutex-protected inbox (principles 6 and 7).
//
// Loop, per iteration:
//   1. drain the inbox (new requests join the scheduler's FIFO waiting queue; cancellations mark
//      sequences);
//   2. drop cancelled sequences (queued or running) -- their KV blocks are freed at once, so a
//      vanished client costs at most the step that was already running;
//   3. Scheduler::Schedule() -> one step (decode tokens of running sequences, prefill chunks,
//      admissions), Executor::Step, then for each sequence whose prompt is fully computed: sample,
//      detokenize, check stop (these per-sequence jobs split over the compute pool), queue an
//      event; finished sequences release their KV;
//   4. publish the iteration's events to the event dispatcher (event_dispatcher.h: a lock-free
//      hand-off once per step), whose own thread runs the callbacks -- the server's JSON, SSE
//      framing, metrics and logging never run on the engine thread;
//   5. sleep on a condition variable when there is nothing to do.
// A failed step fails every request in it with GenerationErrorKind::kGeneration (TGI: the whole
// batch fails) and the engine keeps serving.
//
// Thread rules: Submit, Cancel, Stats, Shutdown may be called from any thread and never block on
// a step (they take the inbox mutex only). Callbacks run on the event dispatcher's thread, one
// at a time, each request's in order (a request rejected by Submit during shutdown gets its error
// on the caller's thread).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/status.h"
#include "engine/core/thread_pool.h"
#include "engine/model/model.h"
#include "engine/serving/generation.h"
#include "engine/text/tokenizer.h"

namespace sg {

struct EngineOptions {
  int64_t max_batch_prefill_tokens = 256;  // tokens per step (decode + prefill chunks)
  int64_t max_batch_total_tokens = 16384;  // KV budget in token positions (all sequences)
  int64_t max_batch_size = 256;            // sequences per step
  int64_t max_total_tokens = 2048;         // one sequence's prompt + generated limit
  DType kv_dtype = DType::kF16;            // KV cache element type (f32, f16, q8_0)
  // Reuse the KV blocks of prompt prefixes computed before (kv_block_pool.h). Requests with
  // prefill_logprobs never adopt cached blocks (their prompt logits need the whole prefill, TGI
  // §6.6) but do publish theirs.
  bool prefix_caching = false;
  // Logits rows a step may spend on prompt logprobs (prefill_logprobs) beyond one row per
  // sequence. The logits buffer holds max_batch_size + this many rows (at most
  // max_batch_prefill_tokens); a prompt-logprob chunk is capped to fit, so a longer prompt takes
  // more steps. 32 rows keep a chunk's matmuls efficient (the weights are read once per 32 tokens)
  // at 19 MB for a 152k vocabulary.
  int64_t prompt_logprob_rows = 32;
  std::vector<int32_t> eos_ids;  // finish with kEosToken on these
};

// Counters for /metrics and tests; read with relaxed loads from any thread.
struct EngineStats {
  std::atomic<int64_t> queue_size{0};       // waiting, not yet admitted
  std::atomic<int64_t> running{0};          // admitted sequences
  std::atomic<int64_t> reserved_tokens{0};  // KV token positions reserved by running
  std::atomic<int64_t> kv_blocks_total{0};
  std::atomic<int64_t> kv_blocks_free{0};
  std::atomic<int64_t> steps_prefill{0};  // steps that contained a prefill chunk
  std::atomic<int64_t> steps_decode{0};   // steps with decode tokens only
  std::atomic<int64_t> cancelled{0};      // sequences dropped because the client left
  // Prefix cache: published blocks (in use or evictable), prompt positions looked up and found,
  // published blocks evicted for reuse.
  std::atomic<int64_t> kv_blocks_cached{0};
  std::atomic<int64_t> prefix_queried_tokens{0};
  std::atomic<int64_t> prefix_hit_tokens{0};
  std::atomic<int64_t> prefix_evictions{0};
  // Where time goes (nanoseconds so far): the engine thread in steps (forward, sampling,
  // detokenizing), the engine thread handing events to the dispatcher, and the dispatcher thread
  // in callbacks; and the events delivered.
  std::atomic<int64_t> step_nanos{0};
  std::atomic<int64_t> handoff_nanos{0};
  std::atomic<int64_t> delivery_nanos{0};
  std::atomic<int64_t> events_delivered{0};
};

class Engine {
 public:
  // Builds the executor (KV pool of max_batch_total_tokens positions, workspace for
  // max_batch_prefill_tokens tokens and max_batch_size sequences). Does not start the thread.
  static StatusOr<std::unique_ptr<Engine>> Create(const Model& model, const Tokenizer& tokenizer,
                                                  ThreadPool& pool, const EngineOptions& options);
  ~Engine();  // Shutdown(0) if still running

  // One forward pass of a short prompt through a fresh sequence (TGI's warm-up); the server's
  // /health turns 200 once this succeeded. Call before Start(), on the thread that will not race
  // the engine thread.
  Status WarmUp();

  void Start();  // spawns the engine thread

  // Queues a request; events arrive through `on_event` on the dispatcher thread. Returns the id to
  // pass to Cancel. Never blocks on a step. The request must be valid (the server validated it).
  uint64_t Submit(GenerationRequest request, GenerationCallback on_event);

  // The client went away: the request is dropped at the next loop iteration (queued or running),
  // its KV blocks freed; no further events are delivered. Unknown/finished ids are ignored.
  void Cancel(uint64_t id);

  // Stops admitting, lets running and queued requests finish until `deadline`, then fails the
  // rest with GenerationErrorKind::kShutdown and joins the thread.
  void Shutdown(std::chrono::steady_clock::time_point deadline);

  const EngineStats& stats() const;
  const EngineOptions& options() const;
  // Bytes of the logits buffer (rows x vocabulary floats), sized once at Create.
  int64_t logits_buffer_bytes() const;

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg
