// Checks principle 5: Executor::Step performs no heap allocation once warm. The binary links
// tests/support/counting_new.cc, which counts operator new calls.
#include <gtest/gtest.h>

#include <vector>

#include "counting_new.h"
#include "engine/runtime/executor.h"
#include "test_model.h"

namespace sg {
namespace {

void ExpectStepsDoNotAllocate(int threads) {
  ThreadPool pool(threads);
  auto tm = testing::MakeTinyModel({});
  ExecutorOptions o;
  o.max_batch_tokens = 32;
  o.max_sequences = 2;
  o.kv_token_budget = 256;
  auto e_or = Executor::Create(tm->model, pool, o);
  ASSERT_TRUE(e_or.ok());
  Executor& e = **e_or;
  KvAllocation a = e.NewSequence(), b = e.NewSequence();
  std::vector<int32_t> prompt(20, 3), decode = {5};
  std::vector<float> logits(32 * tm->model.config.vocab_size);
  // Warm-up: kernels may size per-thread scratch on first use (allowed by matmul.h).
  StepSequence warm{prompt, 0, &a, true};
  ASSERT_TRUE(e.Step({&warm, 1}, logits).ok());

  if (!test::AllocationCountingOn()) GTEST_SKIP() << "operator new is not replaceable here";
  const long before = test::AllocationCount();
  StepSequence batch[2] = {{std::span(prompt).first(12), 0, &b, true}, {decode, 20, &a, false}};
  Status s1 = e.Step(batch, logits);
  batch[0] = {std::span(prompt).subspan(12, 8), 12, &b, false};
  batch[1] = {decode, 21, &a, false};
  Status s2 = e.Step(batch, logits);
  const long during = test::AllocationCount() - before;
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(during, 0) << "heap allocations in two steps with " << threads << " threads";
}

TEST(ExecutorNoAlloc, StepDoesNotAllocateSingleThread) { ExpectStepsDoNotAllocate(1); }
TEST(ExecutorNoAlloc, StepDoesNotAllocateWithWorkers) { ExpectStepsDoNotAllocate(2); }

}  // namespace
}  // namespace sg
