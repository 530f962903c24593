#include "engine/scheduler/scheduler.h"

#include <algorithm>

namespace sg {

Scheduler::Scheduler(const SchedulerConfig& config) : config_(config) {}

bool Scheduler::Add(uint64_t id, int64_t prompt_tokens, int64_t max_new_tokens,
                    bool prompt_logits) {
  if (prompt_tokens < 1 || max_new_tokens < 1 || seqs_.count(id)) return false;
  const int64_t block = std::max<int64_t>(1, config_.block_tokens);
  const int64_t need = prompt_tokens + max_new_tokens;
  const int64_t reserve = (need + block - 1) / block * block;
  if (reserve > config_.max_batch_total_tokens) return false;
  seqs_[id] = Seq{prompt_tokens, 0, reserve, false, prompt_tokens, prompt_logits};
  waiting_.push_back(id);
  return true;
}

void Scheduler::Remove(uint64_t id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  if (it->second.running) {
    reserved_tokens_ -= it->second.reserve;
    running_.erase(std::find(running_.begin(), running_.end(), id));
  } else {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), id));
  }
  seqs_.erase(it);
}

int64_t Scheduler::FitLogitRows(const Seq& s, int64_t n, int64_t* extra_rows_left) {
  // A chunk that starts inside the prompt lies wholly in it (known == prompt until the prompt is
  // computed), so with prompt_logits each of its n tokens is a row: n - 1 beyond the usual one.
  if (!s.prompt_logits || s.computed >= s.prompt) return n;
  n = 1 + std::min(n - 1, *extra_rows_left);  // n >= 1; no overflow with an unbounded cap
  *extra_rows_left -= n - 1;
  return n;
}

StepPlan Scheduler::Schedule() { return Plan(nullptr, nullptr); }

StepPlan Scheduler::Schedule(FunctionRef<int64_t(uint64_t id)> on_admit) {
  return Plan(&on_admit, nullptr);
}

StepPlan Scheduler::Schedule(FunctionRef<int64_t(uint64_t id)> on_admit, const KvLedger& ledger) {
  return Plan(&on_admit, &ledger);
}

StepPlan Scheduler::Plan(const FunctionRef<int64_t(uint64_t)>* on_admit, const KvLedger* ledger) {
  StepPlan plan;
  int64_t budget = config_.max_step_tokens;
  int64_t extra_rows = std::max<int64_t>(0, config_.max_extra_logit_rows);
  // Running sequences first, in admission order. Decodes (1 token) before anything else so a
  // long prefill chunk of an earlier sequence can never take the budget a decode needs: pass 1
  // gives every decoding sequence its token, pass 2 gives prefill chunks what is left.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t id : running_) {
      const Seq& s = seqs_[id];
      const int64_t remaining = s.known - s.computed;
      if (remaining <= 0) continue;  // waiting for its sampled token (cannot happen after a step)
      const bool decode = remaining == 1;
      if ((pass == 0) != decode) continue;
      if (budget <= 0) break;
      const int64_t n = FitLogitRows(s, std::min(remaining, budget), &extra_rows);
      plan.sequences.push_back({id, s.computed, n, n == remaining});
      plan.has_prefill |= n > 1 || !decode;
      budget -= n;
      plan.num_tokens += n;
    }
  }
  // The ledger's side of the invariant (see the header): blocks the running sequences will still
  // allocate, and the pool's free blocks; both move as sequences are admitted below.
  const int64_t block = std::max<int64_t>(1, config_.block_tokens);
  int64_t outstanding = 0, free_blocks = 0;
  if (ledger != nullptr && !waiting_.empty()) {
    for (uint64_t id : running_) {
      outstanding += std::max<int64_t>(0, seqs_[id].reserve / block - ledger->held_blocks(id));
    }
    free_blocks = ledger->free_blocks();
  }
  // Admission in strict FIFO order; the first that does not fit stops it.
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int64_t>(running_.size()) < config_.max_running) {
    const uint64_t id = waiting_.front();
    Seq& s = seqs_[id];
    if (ledger != nullptr) {
      const KvLedger::CachedPrefix prefix = ledger->cached_prefix(id);
      const int64_t need = std::max<int64_t>(0, s.reserve / block - prefix.blocks);
      if (outstanding + need > free_blocks - prefix.free_blocks) break;
      outstanding += need;
      free_blocks -= prefix.free_blocks;
    } else if (reserved_tokens_ + s.reserve > config_.max_batch_total_tokens) {
      break;
    }
    waiting_.pop_front();
    s.running = true;
    reserved_tokens_ += s.reserve;
    running_.push_back(id);
    if (on_admit != nullptr) s.computed = std::clamp<int64_t>((*on_admit)(id), 0, s.prompt - 1);
    const int64_t n = FitLogitRows(s, std::min(s.known - s.computed, budget), &extra_rows);
    plan.sequences.push_back({id, s.computed, n, n == s.known - s.computed});
    plan.has_prefill = true;
    plan.num_tokens += n;
    budget -= n;
    ++plan.num_admitted;
  }
  return plan;
}

void Scheduler::OnStepDone(const StepPlan& plan) {
  for (const ScheduledSequence& p : plan.sequences) {
    auto it = seqs_.find(p.id);
    if (it == seqs_.end()) continue;  // removed meanwhile
    it->second.computed = std::min(it->second.known, p.start + p.num_tokens);
  }
}

void Scheduler::OnTokenAppended(uint64_t id) {
  auto it = seqs_.find(id);
  if (it != seqs_.end()) ++it->second.known;
}

}  // namespace sg
