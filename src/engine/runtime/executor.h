// The executor runs one batched forward step over sequences that each bring their own tokens,
// start position and KV allocation: prefill chunks and single decode tokens mix in ONE step.
//
// It owns the workspace (every activation and scratch buffer, sized ONCE at construction for
// max_batch_tokens and max_sequences), the f32 copies of small weights, and the KV block pool;
// it borrows the model and the compute pool. Step performs no heap allocation (tested with a
// counting allocator); inputs that do not fit are refused with a Status, never a crash.
//
// Thread rules: ONE engine thread constructs the executor and calls Step / NewSequence and
// destroys KV allocations; the math inside Step is split on the ThreadPool, which must not be
// used by anyone else during a Step. Step blocks until the logits are written.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/thread_pool.h"
#include "engine/model/forward.h"
#include "engine/model/model.h"
#include "engine/runtime/kv_block_pool.h"

namespace sg {

struct ExecutorOptions {
  int64_t max_batch_tokens = 512;  // tokens of all sequences in one step
  int64_t max_sequences = 64;      // sequences in one step
  int64_t kv_token_budget = 4096;  // KV cache capacity in token positions, all sequences together
  // One sequence's limit in positions; 0 = the KV budget.
  int64_t max_tokens_per_sequence = 0;
  // KV cache element type: kF16 (default: half the memory and bandwidth of f32, relative error
  // 2^-11 per stored value), kF32, or kQ8_0 (head_dim a multiple of 32).
  DType kv_dtype = DType::kF16;
  // Keep full prompt blocks for reuse by later sequences (kv_block_pool.h, prefix cache).
  bool prefix_caching = false;
};

// One sequence's part of a step.
struct StepSequence {
  std::span<const int32_t> tokens;  // ids to run now, at positions start_pos, start_pos + 1, ...
  // Must be <= kv->length() (positions before it are cached) and >= kv->immutable_tokens()
  // (blocks shared through the prefix cache are never rewritten).
  int64_t start_pos = 0;
  KvAllocation* kv = nullptr;  // from Executor::NewSequence; grown by Step as needed
  bool all_logits = false;     // true: a logits row per token; false: last token only
};

class Executor {
 public:
  // InvalidArgument for a model whose shapes the forward cannot run or bad options;
  // ResourceExhausted if the KV cache or workspace memory cannot be had.
  static StatusOr<std::unique_ptr<Executor>> Create(const Model& model, ThreadPool& pool,
                                                    const ExecutorOptions& options);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // A new, empty sequence whose KV lives in this executor's pool.
  KvAllocation NewSequence() { return kv_->NewAllocation(); }

  // Logits rows a step over `batch` writes: sum over sequences of (all_logits ? tokens : 1).
  static int64_t CountLogitRows(std::span<const StepSequence> batch);

  // Runs the step and writes CountLogitRows(batch) rows of vocab_size floats into `logits`, in
  // batch order (each sequence's rows in position order). On success every kv->length() becomes
  // start_pos + tokens.size() (a start before the old length rewinds the sequence).
  // Errors (nothing is computed; KV allocations may have grown but stay valid):
  //   InvalidArgument   token id outside [0, vocab), empty token list, missing/foreign/duplicate
  //                     KV allocation, start_pos outside [kv->immutable_tokens(),
  //                     kv->length()], logits too small;
  //   OutOfRange        more than max_batch_tokens tokens or max_sequences sequences;
  //   ResourceExhausted the KV pool (or the per-sequence limit) cannot hold the new positions.
  Status Step(std::span<const StepSequence> batch, std::span<float> logits);

  // Observe named intermediates during Step (nullptr to stop). For debugging and reference diffs.
  void SetIntermediateHook(IntermediateHook hook, void* user);

  const Model& model() const { return model_; }
  const ExecutorOptions& options() const { return options_; }
  KvBlockPool& kv_pool() { return *kv_; }
  // The workspace, for tests that check it is never reallocated.
  const Activations& activations() const { return act_; }
  uint64_t workspace_bytes() const { return workspace_.size() * sizeof(float); }

 private:
  class KvAttention;
  Executor(const Model& model, ThreadPool& pool, const ExecutorOptions& options);
  Status Validate(std::span<const StepSequence> batch, std::span<float> logits) const;

  const Model& model_;
  ThreadPool& pool_;
  ExecutorOptions options_;
  ForwardFn forward_ = nullptr;
  std::unique_ptr<KvBlockPool> kv_;
  std::unique_ptr<KvAttention> attention_;

  std::vector<float> workspace_;           // all of act_, one buffer
  std::vector<std::byte> matmul_scratch_;  // act_.matmul_scratch
  Activations act_;
  std::vector<float> small_weights_;  // f32 norms and biases, pointed to by floats_
  FloatWeights floats_;
  IntermediateHook hook_ = nullptr;
  void* hook_user_ = nullptr;

  // Per-step token tables, capacity max_batch_tokens (T) / max_sequences (S), sized once.
  std::vector<int32_t> token_ids_;   // {T}
  std::vector<int32_t> positions_;   // {T}
  std::vector<int32_t> logit_rows_;  // {T}
  std::vector<int32_t> token_seq_;   // {T} index of the token's sequence in the batch
  std::vector<std::span<const int32_t>> seq_blocks_;  // {S} each sequence's KV block ids
};

}  // namespace sg
