// The serving benchmark's statistics: percentiles against hand-computed values (numpy's linear
// method), and a point's aggregation (TPOT, pooled ITL, errors vs 429s, throughputs).
#include <gtest/gtest.h>

#include <vector>

#include "cli/bench_serve/stats.h"

namespace sg::benchserve::stats_test {
namespace {

TEST(BenchServeStats, PercentileInterpolatesLikeNumpy) {
  const std::vector<double> v = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 4);
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 2.5);   // rank 1.5
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 3.7);   // rank 2.7: 3 + 0.7
  EXPECT_DOUBLE_EQ(Percentile(v, 99), 3.97);  // rank 2.97
  const std::vector<double> one = {42};
  EXPECT_DOUBLE_EQ(Percentile(one, 99), 42);
  std::vector<double> hundred;
  for (int i = 1; i <= 101; ++i) hundred.push_back(i);  // rank = p exactly
  EXPECT_DOUBLE_EQ(Percentile(hundred, 90), 91);
  EXPECT_DOUBLE_EQ(Percentile(hundred, 99), 100);
}

TEST(BenchServeStats, SummarizeSortsAndAverages) {
  const Summary s = Summarize({10, 0, 5, 20, 15});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 10);
  EXPECT_DOUBLE_EQ(s.p50, 10);
  EXPECT_DOUBLE_EQ(s.p90, 18);    // rank 3.6: 15 + 0.6 * 5
  EXPECT_DOUBLE_EQ(s.p99, 19.8);  // rank 3.96
  EXPECT_EQ(Summarize({}).n, 0u);
}

RequestResult Ok(double ttft, double e2e, int64_t tokens, std::vector<double> itl) {
  RequestResult r;
  r.ok = true;
  r.http_status = 200;
  r.ttft_s = ttft;
  r.e2e_s = e2e;
  r.output_tokens = tokens;
  r.token_events = tokens;
  r.itl_s = std::move(itl);
  return r;
}

TEST(BenchServeStats, PointAggregation) {
  PointRun run;
  run.concurrency = 2;
  run.duration_s = 2.0;
  run.prompt_tokens = {100, 50};
  run.results.push_back(Ok(0.1, 0.5, 5, {0.1, 0.1, 0.1, 0.1}));  // TPOT 0.4/4 = 100 ms
  RequestResult b = Ok(0.3, 0.9, 4, {0.2, 0.2, 0.2});            // TPOT 0.6/3 = 200 ms
  b.prompt_index = 1;
  b.prompt_tokens = 51;  // the server's count wins over the calibration's 50
  run.results.push_back(b);
  run.results.push_back(Ok(0.2, 0.2, 1, {}));  // one token: no TPOT
  RequestResult busy;
  busy.overloaded = true;
  busy.http_status = 429;
  busy.retry_after_s = 2;
  busy.error = "HTTP 429: busy";
  run.results.push_back(busy);
  RequestResult bad;
  bad.error = "connect: Connection refused";
  run.results.push_back(bad);

  const PointStats st = ComputeStats(run);
  EXPECT_EQ(st.requests, 5u);
  EXPECT_EQ(st.completed, 3u);
  EXPECT_EQ(st.errors, 1u);
  EXPECT_EQ(st.overloaded, 1u);
  EXPECT_EQ(st.retry_after_seen, 1u);
  EXPECT_EQ(st.retry_after_max_s, 2.0);
  EXPECT_EQ(st.output_tokens, 10);
  EXPECT_EQ(st.input_tokens, 100 + 51 + 100);
  EXPECT_DOUBLE_EQ(st.request_throughput, 1.5);
  EXPECT_DOUBLE_EQ(st.output_throughput, 5.0);
  EXPECT_DOUBLE_EQ(st.total_token_throughput, 130.5);
  EXPECT_EQ(st.tpot_ms.n, 2u);
  EXPECT_NEAR(st.tpot_ms.mean, 150, 1e-9);
  EXPECT_NEAR(st.ttft_ms.mean, 200, 1e-9);
  EXPECT_EQ(st.itl_ms.n, 7u);  // pooled over requests
  EXPECT_NEAR(st.itl_ms.p50, 100, 1e-9);
  EXPECT_NEAR(st.e2e_ms.p50, 500, 1e-9);
  EXPECT_EQ(st.error_samples.size(), 2u);
}

TEST(BenchServeStats, UnknownPromptSizeIsReported) {
  PointRun run;
  run.duration_s = 1;
  run.prompt_tokens = {-1};
  run.results.push_back(Ok(0.1, 0.2, 2, {0.1}));
  const PointStats st = ComputeStats(run);
  EXPECT_FALSE(st.input_tokens_known);
  EXPECT_EQ(PointLabel(4, 0), "c=4");
  EXPECT_EQ(PointLabel(0, 2.5), "rate=2.5/s");
}

}  // namespace
}  // namespace sg::benchserve::stats_test
