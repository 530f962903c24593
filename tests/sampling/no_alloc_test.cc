// Checks that Sampler::Sample and StopCriteria::Push do not touch the heap once constructed (the
// decode step allocates nothing, principle 5). The binary links
// tests/support/counting_new.cc, which counts operator new calls.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "counting_new.h"
#include "engine/sampling/sampler.h"
#include "engine/sampling/stop_criteria.h"

namespace sg {
namespace {

constexpr int32_t kVocab = 4096;

void FillLogits(std::vector<float>& logits, int step) {
  for (int32_t i = 0; i < kVocab; ++i) logits[i] = std::sin(0.001f * i * (step + 3)) * 4.0f;
}

void ExpectSampleDoesNotAllocate(const SamplingParams& params, int top_n,
                                 bool with_logprob = true) {
  std::vector<int32_t> prompt = {1, 2, 3, 2, 1};
  Sampler sampler(params, kVocab, prompt);
  std::vector<float> logits(kVocab);
  std::vector<SampledToken> top;
  top.reserve(kVocab);  // ties may lengthen the list up to the vocabulary
  if (!test::AllocationCountingOn()) GTEST_SKIP() << "operator new is not replaceable here";
  const long before = test::AllocationCount();
  for (int step = 0; step < 20; ++step) {
    FillLogits(logits, step);
    sampler.Sample(logits, top_n, &top, with_logprob);
  }
  EXPECT_EQ(test::AllocationCount() - before, 0);
}

TEST(SamplingNoAlloc, Greedy) { ExpectSampleDoesNotAllocate(SamplingParams{}, 0); }

TEST(SamplingNoAlloc, GreedyArgmaxOnly) {
  SamplingParams p;
  p.repetition_penalty = 1.2f;
  ExpectSampleDoesNotAllocate(p, 0, /*with_logprob=*/false);
}

TEST(SamplingNoAlloc, EveryProcessorAndTopN) {
  SamplingParams p;
  p.do_sample = true;
  p.temperature = 0.8f;
  p.top_k = 100;
  p.top_p = 0.9f;
  p.typical_p = 0.95f;
  p.repetition_penalty = 1.2f;
  p.frequency_penalty = 0.3f;
  ExpectSampleDoesNotAllocate(p, 5);
}

TEST(SamplingNoAlloc, StopCriteriaPushOnceWarm) {
  StoppingParams p;
  p.max_new_tokens = 1 << 30;
  p.stop_sequences = {"<never>", "###"};
  const std::vector<int32_t> eos = {2};
  StopCriteria stop(p, eos);
  // Warm-up: the buffer reaches its largest size (keep + slack + one token) once.
  for (int i = 0; i < 200; ++i) ASSERT_EQ(stop.Push(5, "word "), std::nullopt);
  if (!test::AllocationCountingOn()) GTEST_SKIP() << "operator new is not replaceable here";
  const long before = test::AllocationCount();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(stop.Push(5, "word "), std::nullopt);
  EXPECT_EQ(test::AllocationCount() - before, 0);
}

}  // namespace
}  // namespace sg
