// Pure token-budget continuous batching (vLLM v1 schedule(), TGI v3 with chunked prefill):
// plain structs in, a step plan out; no model, no threads, unit-tested alone.
//
// Each sequence has tokens KNOWN (prompt + generated so far) and tokens COMPUTED (in the KV
// cache). A step gives each scheduled sequence a number of tokens to compute now:
//   * running sequences first: every decoding sequence (computed == known - 1) gets its 1 token,
//     then sequences still prefilling, in admission order, get min(remaining prompt, budget
//     left) -- a chunk -- so a long prompt never delays the streams already running;
//   * then waiting sequences in strict FIFO order: the head is admitted if a sequence slot is free,
//     budget is left (it gets a chunk of min(prompt, budget left) tokens), and its KV reservation
//     fits -- reserve_tokens = prompt + max_new_tokens positions, rounded up to 16-token blocks,
//     against max_batch_total_tokens. The first waiting sequence that does not fit stops
//     admission (no skipping ahead).
// Because every admitted sequence's whole KV need is reserved up front, a running sequence never
// runs out of KV: there is no preemption (as TGI).
//
// Prefix cache: Schedule(on_admit) asks the caller, at the moment a sequence is admitted, how many
// of its prompt positions are already computed (KV blocks adopted from the prefix cache). Its
// chunk then starts there, so a request whose prefix is cached prefills only the rest.
//
// KV admission, two ways:
//   * token reservations (Schedule() and Schedule(on_admit)): the sum of the running sequences'
//     reserve_tokens stays <= max_batch_total_tokens. A block shared through the prefix cache is
//     counted once per user: safe, but a long system prompt shared by many clients admits far
//     fewer of them than the pool could hold;
//   * the block ledger (Schedule(on_admit, ledger)), the engine's: admission is checked against
//     the pool itself. A sequence needs reserve_tokens / block_tokens blocks in all; it holds some
//     (adopted or allocated so far) and will allocate the rest, its OUTSTANDING blocks. The plan
//     keeps   sum over running sequences of outstanding <= the pool's free blocks   and admits
//     the waiting head only if, with the prefix it would adopt (ledger.cached_prefix: blocks,
//     and how many of them are free, i.e. cached but unused), that still holds. Every event keeps
//     it: an allocation takes one free block and one outstanding; a sequence that leaves drops its
//     outstanding and frees >= 0 blocks (a shared block stays with its other users, so nobody has
//     to pay for it again: the "transfer" is implicit); adopting an in-use block costs nothing,
//     adopting a cached unused one takes one free block and one outstanding. So a shared prefix
//     is paid for once, and a running sequence still never runs out of KV.
//
// Logits rows: the executor writes one logits row per scheduled sequence, plus one per extra
// prompt position of a sequence that wants prompt logprobs (a chunk of n prompt tokens costs n
// rows instead of 1). The engine's logits buffer holds one row per sequence plus a bounded
// number of such extra rows (max_extra_logit_rows), not one per batch token: on a 152k vocabulary
// 512 rows are 311 MB. So a prompt-logprob sequence's chunk is also capped at 1 + the extra rows
// left in the step; it continues in the next steps (chunked prefill), and since each sequence
// still gets at least 1 token, progress never stops. Rows in a step <= sequences + extra rows.
//
// Thread rules: not thread-safe; owned by the engine thread.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <unordered_map>
#include <vector>

#include "engine/core/function_ref.h"

namespace sg {

struct SchedulerConfig {
  int64_t max_step_tokens = 256;           // max_batch_prefill_tokens: tokens per step, all kinds
  int64_t max_batch_total_tokens = 16384;  // KV positions that can be reserved at once
  int64_t max_running = 256;               // sequences per step (max_batch_size)
  int64_t block_tokens = 16;               // reservations round up to this
  // Logits rows a step may spend on prompt logprobs beyond each sequence's one row (see above).
  int64_t max_extra_logit_rows = std::numeric_limits<int64_t>::max();
};

struct ScheduledSequence {
  uint64_t id = 0;
  int64_t start = 0;              // first position to compute (== computed before the step)
  int64_t num_tokens = 0;         // positions [start, start + num_tokens) are computed by this step
  bool completes_prompt = false;  // after this step computed == known: sample a token
};

// What the block ledger knows of the KV pool (see the top): the caller's answers, in blocks.
struct KvLedger {
  // Free blocks of the pool now: never used, released, or cached and used by nobody.
  FunctionRef<int64_t()> free_blocks;
  // Blocks a running sequence holds now (adopted and allocated).
  FunctionRef<int64_t(uint64_t id)> held_blocks;
  // For the waiting head: the blocks on_admit would adopt for it if it were admitted now.
  struct CachedPrefix {
    int64_t blocks = 0;       // adopted blocks
    int64_t free_blocks = 0;  // of those, blocks that are free now (cached, used by nobody)
  };
  FunctionRef<CachedPrefix(uint64_t id)> cached_prefix;
};

struct StepPlan {
  std::vector<ScheduledSequence> sequences;  // decodes, prefill chunks, then admitted
  int64_t num_tokens = 0;                    // sum of num_tokens
  int64_t num_admitted = 0;                  // sequences admitted by this plan
  bool has_prefill = false;                  // some sequence computes more than its last token
  bool empty() const { return sequences.empty(); }
};

class Scheduler {
 public:
  explicit Scheduler(const SchedulerConfig& config);

  // A new request joins the back of the waiting queue. prompt_tokens >= 1, max_new_tokens >= 1.
  // prompt_logits: every prompt position needs a logits row (prompt logprobs), so its prompt
  // chunks count against max_extra_logit_rows.
  // Returns false (and does nothing) if the sequence could never fit
  // (reservation > max_batch_total_tokens) or the id is already known.
  bool Add(uint64_t id, int64_t prompt_tokens, int64_t max_new_tokens, bool prompt_logits = false);

  // Forgets a sequence (finished, cancelled, or failed), waiting or running; its reservation is
  // returned. Unknown ids are ignored.
  void Remove(uint64_t id);

  // Plans the next step. Admitted sequences become running.
  StepPlan Schedule();
  // The same; on_admit(id) is called once for each sequence as it is admitted and returns how
  // many of its first positions are already computed, in [0, prompt tokens - 1] (clamped).
  StepPlan Schedule(FunctionRef<int64_t(uint64_t id)> on_admit);
  // The same, admitting against the block ledger (see the top) instead of the token
  // reservations. on_admit must adopt exactly the prefix ledger.cached_prefix described.
  StepPlan Schedule(FunctionRef<int64_t(uint64_t id)> on_admit, const KvLedger& ledger);

  // The step ran: each planned sequence's computed count advances by its num_tokens.
  void OnStepDone(const StepPlan& plan);

  // A decoding sequence produced a token: known += 1 (it will be computed next step).
  void OnTokenAppended(uint64_t id);

  int64_t num_waiting() const { return static_cast<int64_t>(waiting_.size()); }
  int64_t num_running() const { return static_cast<int64_t>(running_.size()); }
  // The running sequences' reserve_tokens summed (the gauge TGI calls batch_current_max_tokens);
  // with the ledger it may exceed max_batch_total_tokens by the shared blocks.
  int64_t reserved_tokens() const { return reserved_tokens_; }

 private:
  struct Seq {
    int64_t known = 0;
    int64_t computed = 0;
    int64_t reserve = 0;  // positions reserved (block-rounded)
    bool running = false;
    int64_t prompt = 0;  // prompt tokens
    bool prompt_logits = false;
  };
  // Caps a chunk of n tokens starting at s.computed to the extra logits rows left, and spends them.
  static int64_t FitLogitRows(const Seq& s, int64_t n, int64_t* extra_rows_left);
  StepPlan Plan(const FunctionRef<int64_t(uint64_t)>* on_admit, const KvLedger* ledger);

  SchedulerConfig config_;
  std::unordered_map<uint64_t, Seq> seqs_;
  std::deque<uint64_t> waiting_;
  std::vector<uint64_t> running_;  // admission order
  int64_t reserved_tokens_ = 0;
};

}  // namespace sg
