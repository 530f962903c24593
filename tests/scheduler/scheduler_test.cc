#include "engine/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

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

// Random arrivals, finishes and cancellations; invariants every step.
TEST(Scheduler, RandomizedInvariants) {
  std::mt19937 rng(7);
  const SchedulerConfig config = Config(48, 2048, 16);
  Scheduler s(config);
  struct Model {
    int64_t prompt, max_new, generated = 0, computed = 0;
  };
  std::map<uint64_t, Model> live;
  uint64_t next = 1;
  for (int step = 0; step < 3000; ++step) {
    if (rng() % 3 == 0) {
      Model m{1 + static_cast<int64_t>(rng() % 200), 1 + static_cast<int64_t>(rng() % 64)};
      if (s.Add(next, m.prompt, m.max_new)) live[next] = m;
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
    s.OnStepDone(p);
    for (const auto& q : p.sequences) {
      Model& m = live.at(q.id);
      ASSERT_EQ(q.start, m.computed);
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

}  // namespace
}  // namespace sg
