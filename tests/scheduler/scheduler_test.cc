#include "engine/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace sg {
namespace {

SchedulerConfig Config(int64_t step, int64_t kv, int64_t running) {
  SchedulerConfig c;
  c.max_step_tokens = step;
  c.max_batch_total_tokens = kv;
  c.max_running = running;
  return c;
}

// Runs a step: every sequence whose prompt completes gets a token appended.
StepPlan Step(Scheduler& s) {
  StepPlan plan = s.Schedule();
  s.OnStepDone(plan);
  for (const auto& p : plan.sequences) {
    if (p.completes_prompt) s.OnTokenAppended(p.id);
  }
  return plan;
}

TEST(Scheduler, AdmitsPrefillThenDecodesOneTokenEach) {
  Scheduler s(Config(64, 1024, 8));
  ASSERT_TRUE(s.Add(1, 10, 5));
  ASSERT_TRUE(s.Add(2, 20, 5));
  StepPlan p = s.Schedule();
  ASSERT_EQ(p.sequences.size(), 2u);
  EXPECT_EQ(p.sequences[0].num_tokens, 10);
  EXPECT_EQ(p.sequences[1].num_tokens, 20);
  EXPECT_TRUE(p.sequences[0].completes_prompt);
  EXPECT_EQ(p.num_admitted, 2);
  EXPECT_TRUE(p.has_prefill);
  s.OnStepDone(p);
  s.OnTokenAppended(1);
  s.OnTokenAppended(2);
  p = s.Schedule();
  ASSERT_EQ(p.sequences.size(), 2u);
  EXPECT_EQ(p.sequences[0].start, 10);
  EXPECT_EQ(p.sequences[0].num_tokens, 1);
  EXPECT_EQ(p.sequences[1].start, 20);
  EXPECT_FALSE(p.has_prefill);
  // Reservations are prompt + max_new rounded up to 16-token blocks.
  EXPECT_EQ(s.reserved_tokens(), 16 + 32);
}

TEST(Scheduler, LongPromptIsChunkedWhileDecodesContinue) {
  Scheduler s(Config(32, 1 << 20, 8));
  ASSERT_TRUE(s.Add(1, 4, 100));
  Step(s);  // 1 is decoding now
  ASSERT_TRUE(s.Add(2, 10000, 10));
  int64_t computed = 0;
  int steps = 0;
  while (computed < 10000) {
    StepPlan p = Step(s);
    ++steps;
    ASSERT_LE(p.num_tokens, 32);
    bool decode1 = false;
    for (const auto& q : p.sequences) {
      if (q.id == 1) decode1 = q.num_tokens == 1;
      if (q.id == 2) {
        EXPECT_EQ(q.start, computed);
        computed += q.num_tokens;
        EXPECT_EQ(q.completes_prompt, computed == 10000);
      }
    }
    EXPECT_TRUE(decode1) << "step " << steps;
  }
  EXPECT_EQ(steps, (10000 + 30) / 31);
}

TEST(Scheduler, FifoWithoutSkippingAhead) {
  Scheduler s(Config(1000, 64, 8));
  ASSERT_TRUE(s.Add(1, 30, 2));  // reserves 32
  ASSERT_TRUE(s.Add(2, 40, 8));  // reserves 48: does not fit beside 1
  ASSERT_TRUE(s.Add(3, 1, 1));   // would fit, but must not jump ahead of 2
  StepPlan p = Step(s);
  ASSERT_EQ(p.sequences.size(), 1u);
  EXPECT_EQ(p.sequences[0].id, 1u);
  EXPECT_EQ(s.num_waiting(), 2);
  s.Remove(1);
  EXPECT_EQ(s.reserved_tokens(), 0);
  p = Step(s);
  ASSERT_EQ(p.sequences.size(), 2u);
  EXPECT_EQ(p.sequences[0].id, 2u);
  EXPECT_EQ(p.sequences[1].id, 3u);
}

TEST(Scheduler, RefusesImpossibleAndDuplicateRequests) {
  Scheduler s(Config(16, 64, 2));
  EXPECT_FALSE(s.Add(1, 60, 10));  // 70 > 64 positions
  EXPECT_FALSE(s.Add(1, 0, 10));
  EXPECT_FALSE(s.Add(1, 1, 0));
  EXPECT_TRUE(s.Add(1, 1, 1));
  EXPECT_FALSE(s.Add(1, 1, 1));
  s.Remove(42);  // unknown: ignored
  EXPECT_EQ(s.num_waiting(), 1);
}

TEST(Scheduler, MaxRunningBoundsAdmission) {
  Scheduler s(Config(100, 1 << 20, 2));
  for (uint64_t i = 1; i <= 4; ++i) ASSERT_TRUE(s.Add(i, 2, 2));
  StepPlan p = Step(s);
  EXPECT_EQ(p.sequences.size(), 2u);
  EXPECT_EQ(s.num_running(), 2);
  s.Remove(1);
  p = Step(s);
  EXPECT_EQ(s.num_running(), 2);
  EXPECT_EQ(p.num_admitted, 1);
}

// A sequence that wants prompt logprobs spends a logits row per prompt token: its chunks are
// capped at 1 + the extra rows left, shared in scheduling order, while plain sequences and decodes
// are not capped; the prompt still completes, one capped chunk per step.
TEST(Scheduler, PromptLogitsChunksFitTheExtraRows) {
  SchedulerConfig c = Config(64, 4096, 8);
  c.max_extra_logit_rows = 4;
  Scheduler s(c);
  ASSERT_TRUE(s.Add(1, 3, 100));
  Step(s);  // 1 is decoding now
  ASSERT_TRUE(s.Add(2, 12, 4, /*prompt_logits=*/true));
  ASSERT_TRUE(s.Add(3, 7, 4, /*prompt_logits=*/true));
  ASSERT_TRUE(s.Add(4, 20, 4));
  StepPlan p = Step(s);
  ASSERT_EQ(p.sequences.size(), 4u);
  EXPECT_EQ(p.sequences[0].num_tokens, 1);  // the decode
  EXPECT_EQ(p.sequences[1].num_tokens, 5);  // 2: 1 + all 4 extra rows
  EXPECT_FALSE(p.sequences[1].completes_prompt);
  EXPECT_EQ(p.sequences[2].num_tokens, 1);   // 3: no extra row left
  EXPECT_EQ(p.sequences[3].num_tokens, 20);  // 4: wants no prompt rows, not capped
  EXPECT_TRUE(p.sequences[3].completes_prompt);
  p = Step(s);  // decodes of 1 and 4 first; then 2 continues at 5, and 3 gets what is left
  ASSERT_EQ(p.sequences.size(), 4u);
  EXPECT_EQ(p.sequences[2].id, 2u);
  EXPECT_EQ(p.sequences[2].start, 5);
  EXPECT_EQ(p.sequences[2].num_tokens, 5);
  EXPECT_EQ(p.sequences[3].id, 3u);
  EXPECT_EQ(p.sequences[3].num_tokens, 1);
  p = Step(s);
  EXPECT_EQ(p.sequences[2].id, 2u);
  EXPECT_EQ(p.sequences[2].num_tokens, 2);  // the last 2 prompt tokens: 1 extra row
  EXPECT_TRUE(p.sequences[2].completes_prompt);
  EXPECT_EQ(p.sequences[3].id, 3u);
  EXPECT_EQ(p.sequences[3].num_tokens, 4);  // 1 + the 3 extra rows left
  p = Step(s);  // one token each, in admission order: 2 decodes, 3 ends its prompt
  ASSERT_EQ(p.sequences.size(), 4u);
  EXPECT_EQ(p.sequences[1].id, 2u);
  EXPECT_EQ(p.sequences[1].num_tokens, 1);
  EXPECT_EQ(p.sequences[2].id, 3u);
  EXPECT_EQ(p.sequences[2].num_tokens, 1);
  EXPECT_TRUE(p.sequences[2].completes_prompt);
}

// Random arrivals, finishes and cancellations; invariants every step. Some sequences want prompt
// logprobs; with a cap on extra logits rows (extra_rows >= 0; else the default, no cap) every
// step's rows (as the engine counts them: a row per token of a chunk inside such a prompt, else
// one) fit sequences + the cap.
void RunRandomized(int64_t extra_rows) {
  std::mt19937 rng(7);
  SchedulerConfig config = Config(48, 2048, 16);
  if (extra_rows >= 0) config.max_extra_logit_rows = extra_rows;  // else no cap
  Scheduler s(config);
  struct Model {
    int64_t prompt, max_new, generated = 0, computed = 0;
    bool prompt_logits = false;
  };
  std::map<uint64_t, Model> live;
  uint64_t next = 1;
  for (int step = 0; step < 3000; ++step) {
    if (rng() % 3 == 0) {
      Model m{1 + static_cast<int64_t>(rng() % 200), 1 + static_cast<int64_t>(rng() % 64)};
      m.prompt_logits = rng() % 4 == 0;
      if (s.Add(next, m.prompt, m.max_new, m.prompt_logits)) live[next] = m;
      ++next;
    }
    if (!live.empty() && rng() % 17 == 0) {  // a client goes away
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      s.Remove(it->first);
      live.erase(it);
    }
    StepPlan p = s.Schedule();
    ASSERT_LE(p.num_tokens, config.max_step_tokens);
    ASSERT_LE(static_cast<int64_t>(p.sequences.size()), config.max_running);
    ASSERT_LE(s.reserved_tokens(), config.max_batch_total_tokens);
    int64_t rows = 0;
    for (const auto& q : p.sequences) {
      const Model& m = live.at(q.id);
      rows += m.prompt_logits && q.start < m.prompt ? q.num_tokens : 1;
    }
    if (extra_rows >= 0) {
      ASSERT_LE(rows, static_cast<int64_t>(p.sequences.size()) + extra_rows);
    }
    s.OnStepDone(p);
    for (const auto& q : p.sequences) {
      Model& m = live.at(q.id);
      ASSERT_EQ(q.start, m.computed);
      ASSERT_GE(q.num_tokens, 1);
      m.computed += q.num_tokens;
      ASSERT_LE(m.computed, m.prompt + m.generated);
      if (q.completes_prompt) {
        ASSERT_EQ(m.computed, m.prompt + m.generated);
        if (++m.generated == m.max_new) {
          s.Remove(q.id);
          live.erase(q.id);
        } else {
          s.OnTokenAppended(q.id);
        }
      }
    }
  }
  for (const auto& [id, m] : live) s.Remove(id);
  EXPECT_EQ(s.reserved_tokens(), 0);
  EXPECT_EQ(s.num_running(), 0);
  EXPECT_EQ(s.num_waiting(), 0);
}

TEST(Scheduler, RandomizedInvariants) { RunRandomized(/*extra_rows=*/-1); }
TEST(Scheduler, RandomizedInvariantsWithPromptLogitRows) { RunRandomized(/*extra_rows=*/8); }
TEST(Scheduler, RandomizedInvariantsWithNoExtraRows) { RunRandomized(/*extra_rows=*/0); }

// Prefix cache: on_admit is asked once per admitted sequence, at admission, and the sequence's
// first chunk starts at what it returned (clamped below the prompt's last position), so the step
// budget pays only for the rest.
TEST(Scheduler, AdmittedSequencesStartAfterTheirCachedPrefix) {
  Scheduler s(Config(64, 4096, 8));
  ASSERT_TRUE(s.Add(1, 100, 4));
  ASSERT_TRUE(s.Add(2, 40, 4));
  ASSERT_TRUE(s.Add(3, 16, 4));
  std::vector<uint64_t> asked;
  const std::map<uint64_t, int64_t> cached = {{1, 80}, {2, 32}, {3, 99}};
  auto on_admit = [&](uint64_t id) {
    asked.push_back(id);
    return cached.at(id);
  };
  StepPlan p = s.Schedule(on_admit);
  ASSERT_EQ(p.sequences.size(), 3u);
  EXPECT_EQ(p.sequences[0].start, 80);
  EXPECT_EQ(p.sequences[0].num_tokens, 20);
  EXPECT_TRUE(p.sequences[0].completes_prompt);
  EXPECT_EQ(p.sequences[1].start, 32);
  EXPECT_EQ(p.sequences[1].num_tokens, 8);
  EXPECT_EQ(p.sequences[2].start, 15);  // clamped: the last prompt position is always computed
  EXPECT_EQ(p.sequences[2].num_tokens, 1);
  EXPECT_EQ(p.num_tokens, 29);
  EXPECT_EQ(asked, (std::vector<uint64_t>{1, 2, 3}));
  // Reservations still count whole prompts (shared blocks once per user).
  EXPECT_EQ(s.reserved_tokens(), 112 + 48 + 32);
  s.OnStepDone(p);
  for (uint64_t id : {1, 2, 3}) s.OnTokenAppended(id);
  p = s.Schedule(on_admit);  // running sequences are not asked again
  EXPECT_EQ(asked.size(), 3u);
  ASSERT_EQ(p.sequences.size(), 3u);
  EXPECT_EQ(p.sequences[0].start, 100);
}

// A sequence that does not fit the KV budget is not admitted, so on_admit is not called for it.
TEST(Scheduler, OnAdmitIsNotCalledForSequencesLeftWaiting) {
  Scheduler s(Config(64, 256, 8));
  ASSERT_TRUE(s.Add(1, 100, 100));  // reserves 208
  ASSERT_TRUE(s.Add(2, 40, 20));    // 64 more: does not fit
  std::vector<uint64_t> asked;
  StepPlan p = s.Schedule([&](uint64_t id) {
    asked.push_back(id);
    return int64_t{0};
  });
  EXPECT_EQ(asked, (std::vector<uint64_t>{1}));
  EXPECT_EQ(p.num_admitted, 1);
}

}  // namespace
}  // namespace sg

namespace sg {
namespace {

// The block ledger over a model of the KV pool (kv_block_pool.h): refcounted blocks, a prefix
// cache of published prompt blocks that stay cached (and count as free) when nobody uses them,
// and eviction of the least recently published unused one when no plain block is left. Prompts
// come from four families, each sharing its first 0..12 blocks. Random arrivals, finishes and
// cancellations. Checked every step: no allocation ever fails (a running sequence never runs out
// of KV), the ledger's invariant holds; and shared prefixes let more sequences run at once than
// the token reservations would.
class PoolModel {
 public:
  explicit PoolModel(int64_t blocks) : users_(blocks, 0), key_(blocks, -1) {}
  int64_t Free() const {
    int64_t n = 0;
    for (int32_t u : users_) n += u == 0 ? 1 : 0;
    return n;
  }
  // Leading cached blocks of `family` (block index i of the family is key family * 100 + i).
  std::vector<int32_t> Cached(int family, int64_t max_blocks) const {
    std::vector<int32_t> out;
    for (int64_t i = 0; i < max_blocks; ++i) {
      const auto it = std::find(key_.begin(), key_.end(), family * 100 + i);
      if (it == key_.end()) break;
      out.push_back(static_cast<int32_t>(it - key_.begin()));
    }
    return out;
  }
  bool Take(std::vector<int32_t>& held) {
    int32_t pick = -1;
    for (size_t b = 0; b < users_.size() && pick < 0; ++b) {
      if (users_[b] == 0 && key_[b] < 0) pick = static_cast<int32_t>(b);
    }
    for (size_t b = 0; b < users_.size() && pick < 0; ++b) {
      if (users_[b] == 0) pick = static_cast<int32_t>(b);  // evicts a cached unused block
    }
    if (pick < 0) return false;
    key_[pick] = -1;
    users_[pick] = 1;
    held.push_back(pick);
    return true;
  }
  void Adopt(int32_t b, std::vector<int32_t>& held) {
    ++users_[b];
    held.push_back(b);
  }
  void Publish(int32_t b, int family, int64_t index) {
    if (std::find(key_.begin(), key_.end(), family * 100 + index) == key_.end()) {
      key_[b] = family * 100 + static_cast<int32_t>(index);
    }
  }
  void Release(std::vector<int32_t>& held) {
    for (int32_t b : held) --users_[b];
    held.clear();
  }
  int32_t users(int32_t b) const { return users_[b]; }

 private:
  std::vector<int32_t> users_;
  std::vector<int32_t> key_;
};

TEST(SchedulerLedger, SharedPrefixesNeverOvercommitThePool) {
  std::mt19937 rng(11);
  constexpr int64_t kBlocks = 64;
  SchedulerConfig config = Config(96, kBlocks * 16, 32);
  Scheduler s(config);
  PoolModel pool(kBlocks);
  struct Seq {
    int family = 0;
    int64_t shared_blocks = 0, prompt = 0, max_new = 0, generated = 0, computed = 0;
    std::vector<int32_t> held;
  };
  const int64_t family_blocks[] = {12, 8, 3, 0};
  std::map<uint64_t, Seq> live;
  uint64_t next = 1;
  int64_t most_running = 0;  // of family 0, in one step
  auto peek = [&](const Seq& q) {
    return pool.Cached(q.family, std::min(q.shared_blocks, (q.prompt - 1) / 16));
  };
  auto free_blocks = [&] { return pool.Free(); };
  auto held_blocks = [&](uint64_t id) { return static_cast<int64_t>(live.at(id).held.size()); };
  auto cached_prefix = [&](uint64_t id) {
    KvLedger::CachedPrefix c;
    for (int32_t b : peek(live.at(id))) {
      ++c.blocks;
      c.free_blocks += pool.users(b) == 0 ? 1 : 0;
    }
    return c;
  };
  const KvLedger ledger{free_blocks, held_blocks, cached_prefix};
  auto on_admit = [&](uint64_t id) {
    Seq& q = live.at(id);
    for (int32_t b : peek(q)) pool.Adopt(b, q.held);
    q.computed = static_cast<int64_t>(q.held.size()) * 16;
    return q.computed;
  };
  auto drop = [&](uint64_t id) {
    pool.Release(live.at(id).held);
    s.Remove(id);
    live.erase(id);
  };
  for (int step = 0; step < 4000; ++step) {
    for (int k = 0; k < 2; ++k) {
      if (rng() % 2 == 0) continue;
      const int family = static_cast<int>(rng() % 4);
      Seq q;
      q.family = family;
      q.shared_blocks = family_blocks[family];
      q.max_new = 1 + static_cast<int64_t>(rng() % 40);
      q.prompt = q.shared_blocks * 16 + 1 + static_cast<int64_t>(rng() % 40);
      if (s.Add(next, q.prompt, q.max_new)) live.emplace(next, std::move(q));
      ++next;
    }
    if (!live.empty() && rng() % 23 == 0) {  // a client goes away
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      drop(it->first);
    }
    StepPlan p = s.Schedule(on_admit, ledger);
    int64_t family0_running = 0;
    for (const auto& planned : p.sequences) family0_running += live.at(planned.id).family == 0;
    most_running = std::max(most_running, family0_running);
    std::vector<uint64_t> finished;
    for (const auto& planned : p.sequences) {
      Seq& q = live.at(planned.id);
      ASSERT_EQ(planned.start, q.computed);
      while (static_cast<int64_t>(q.held.size()) * 16 < planned.start + planned.num_tokens) {
        ASSERT_TRUE(pool.Take(q.held)) << "step " << step << ": the pool ran out of blocks";
      }
      q.computed = planned.start + planned.num_tokens;
      // Publishes the family's shared blocks it computed, as the engine does after a step.
      for (int64_t i = 0; i < std::min(q.shared_blocks, q.computed / 16); ++i) {
        pool.Publish(q.held[static_cast<size_t>(i)], q.family, i);
      }
      if (planned.completes_prompt && ++q.generated == q.max_new) finished.push_back(planned.id);
    }
    s.OnStepDone(p);
    for (const auto& planned : p.sequences) {
      if (planned.completes_prompt && live.count(planned.id) &&
          std::find(finished.begin(), finished.end(), planned.id) == finished.end()) {
        s.OnTokenAppended(planned.id);
      }
    }
    for (uint64_t id : finished) drop(id);
  }
  for (auto it = live.begin(); it != live.end();) drop((it++)->first);
  EXPECT_EQ(pool.Free(), kBlocks);
  EXPECT_EQ(s.num_running(), 0);
  // Token reservations would run at most 4 of the family with 12 shared blocks at once (13 blocks
  // or more each, 64 in all); sharing them, the ledger ran more.
  EXPECT_GT(most_running, 4);
}

// The ledger admits against free blocks minus what the running sequences will still allocate:
// a cached prefix in use by a running sequence costs a new one nothing, an unused cached one
// costs what it takes from the free blocks, and admission stops at the first that does not fit.
TEST(SchedulerLedger, AdmitsWhatThePoolCanHold) {
  Scheduler s(Config(512, 10 * 16, 8));
  int64_t free = 10;
  std::map<uint64_t, int64_t> held;
  std::map<uint64_t, KvLedger::CachedPrefix> cached = {
      {1, {4, 4}}, {2, {4, 0}}, {3, {4, 0}}, {4, {0, 0}}};
  auto free_blocks = [&] { return free; };
  auto held_blocks = [&](uint64_t id) { return held[id]; };
  auto cached_prefix = [&](uint64_t id) { return cached.at(id); };
  const KvLedger ledger{free_blocks, held_blocks, cached_prefix};
  std::vector<uint64_t> admitted;
  auto on_admit = [&](uint64_t id) {
    admitted.push_back(id);
    held[id] = cached.at(id).blocks;
    return cached.at(id).blocks * 16;
  };
  for (uint64_t id = 1; id <= 4; ++id) ASSERT_TRUE(s.Add(id, 4 * 16 + 10, 20));  // 6 blocks each
  // 1 adopts 4 unused cached blocks (free 10 -> 6) and will take 2 more; 2 and 3 share those 4
  // and need 2 each: 6 outstanding of 6 free. 4 would need 6 more: it waits.
  StepPlan p = s.Schedule(on_admit, ledger);
  EXPECT_EQ(admitted, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(p.num_admitted, 3);
  EXPECT_EQ(s.reserved_tokens(), 3 * 96);  // above max_batch_total_tokens: shared blocks
  // The step allocated each one's 5th block: 3 free, 3 outstanding. Still no room for 4.
  free = 3;
  for (uint64_t id = 1; id <= 3; ++id) held[id] = 5;
  s.OnStepDone(p);
  p = s.Schedule(on_admit, ledger);
  EXPECT_EQ(p.num_admitted, 0);
  // 1 and 2 leave: their private blocks come back (the 4 shared stay with 3): 5 free, 1
  // outstanding (3's last block); 4 needs 6: still waits. When 3 leaves too, it fits.
  s.Remove(1);
  s.Remove(2);
  free = 5;
  p = s.Schedule(on_admit, ledger);
  EXPECT_EQ(p.num_admitted, 0);
  s.Remove(3);
  free = 10;
  p = s.Schedule(on_admit, ledger);
  EXPECT_EQ(p.num_admitted, 1);
  EXPECT_EQ(admitted.back(), 4u);
}

}  // namespace
}  // namespace sg
