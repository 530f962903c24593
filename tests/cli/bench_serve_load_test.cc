// The serving benchmark's inputs: seeded Poisson arrivals (rate within a statistical bound,
// exponential gaps, reproducible), URL parsing, request bodies, and prompts of exact token
// lengths with a shared prefix (a fake word tokenizer and the demo model's real one).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/bench_serve/load_runner.h"
#include "cli/bench_serve/request_body.h"
#include "cli/bench_serve/target.h"
#include "cli/bench_serve/workload.h"

namespace sg::benchserve::load_test {
namespace {

TEST(BenchServePoisson, MeanRateWithinStatisticalBound) {
  // n exponential gaps of mean 1/rate: their sum has mean n/rate and standard deviation
  // sqrt(n)/rate, so the last arrival lies within 5 sigma of n/rate (a failure chance ~6e-7).
  const double rate = 8;
  const size_t n = 20000;
  for (uint64_t seed : {1u, 2u, 3u}) {
    const std::vector<double> t = PoissonArrivals(rate, n, seed);
    ASSERT_EQ(t.size(), n);
    const double expected = n / rate, sigma = std::sqrt(double(n)) / rate;
    EXPECT_NEAR(t.back(), expected, 5 * sigma) << "seed " << seed;
    // Exponential gaps: the coefficient of variation is 1 (a fixed-interval schedule gives 0).
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < n; ++i) {
      const double g = t[i] - (i ? t[i - 1] : 0.0);
      ASSERT_GT(g, 0);
      sum += g;
      sum2 += g * g;
    }
    const double mean = sum / n, var = sum2 / n - mean * mean;
    EXPECT_NEAR(std::sqrt(var) / mean, 1.0, 0.05);
  }
}

TEST(BenchServePoisson, SeededAndCutAtDuration) {
  EXPECT_EQ(PoissonArrivals(3, 50, 7), PoissonArrivals(3, 50, 7));
  EXPECT_NE(PoissonArrivals(3, 50, 7), PoissonArrivals(3, 50, 8));
  const std::vector<double> until = PoissonArrivalsUntil(50, 100, 9);
  ASSERT_FALSE(until.empty());
  EXPECT_LT(until.back(), 100);
  EXPECT_NEAR(double(until.size()), 5000, 5 * std::sqrt(5000.0));
  // The cut schedule is the counted one, truncated.
  const std::vector<double> counted = PoissonArrivals(50, until.size() + 1, 9);
  EXPECT_DOUBLE_EQ(until.back(), counted[until.size() - 1]);
  EXPECT_GE(counted.back(), 100);
}

TEST(BenchServeUrl, ParsesAndRefuses) {
  auto u = ParseUrl("http://127.0.0.1:3000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "3000");
  EXPECT_EQ(u->base_path, "");
  u = ParseUrl("localhost:8080/tgi/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->base_path, "/tgi");
  u = ParseUrl("http://[::1]/x");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "80");
  EXPECT_FALSE(ParseUrl("https://example.com").ok());
  EXPECT_FALSE(ParseUrl("ftp://example.com").ok());
  EXPECT_FALSE(ParseUrl("http://host:99999").ok());
  EXPECT_FALSE(ParseUrl("http://host:").ok());
  EXPECT_FALSE(ParseUrl("http://:3000").ok());
  EXPECT_FALSE(ParseUrl("http://[::1").ok());
}

TEST(BenchServeBody, ShapesPerEndpoint) {
  GenerationParams p;
  p.max_new_tokens = 8;
  p.model = "m";
  auto native = nlohmann::json::parse(BuildRequestBody(Endpoint::kGenerateStream, "hi", p));
  EXPECT_EQ(native["inputs"], "hi");
  EXPECT_EQ(native["parameters"]["max_new_tokens"], 8);
  EXPECT_EQ(native["parameters"]["details"], true);
  EXPECT_FALSE(native["parameters"].contains("temperature"));  // greedy: TGI's default
  auto chat = nlohmann::json::parse(BuildRequestBody(Endpoint::kChat, "hi", p));
  EXPECT_EQ(chat["messages"][0]["content"], "hi");
  EXPECT_EQ(chat["model"], "m");
  EXPECT_EQ(chat["max_tokens"], 8);
  EXPECT_EQ(chat["stream"], true);
  EXPECT_EQ(chat["stream_options"]["include_usage"], true);
  p.temperature = 0.7;
  p.seed = 5;
  auto comp = nlohmann::json::parse(BuildRequestBody(Endpoint::kCompletions, "hi", p));
  EXPECT_EQ(comp["prompt"], "hi");
  EXPECT_EQ(comp["seed"], 5);
  EXPECT_DOUBLE_EQ(comp["temperature"].get<double>(), 0.7);
  EXPECT_EQ(std::string(EndpointPath(Endpoint::kCompletions)), "/v1/completions");
  EXPECT_FALSE(ParseEndpoint("generate").ok());
}

// A whitespace tokenizer with a twist: "the" followed by " king" is one token (a merge across
// the word boundary), so cuts and prefixes meet a tokenizer that does not split cleanly.
TokenCounter FakeCounter(int* calls) {
  TokenCounter c;
  c.source = "fake";
  c.count = [calls](const std::string& text) -> StatusOr<std::vector<TokenSpan>> {
    ++*calls;
    std::vector<TokenSpan> out;
    size_t i = 0;
    while (i < text.size()) {
      while (i < text.size() && (text[i] == ' ' || text[i] == '\n')) ++i;
      if (i >= text.size()) break;
      size_t j = i;
      while (j < text.size() && text[j] != ' ' && text[j] != '\n') ++j;
      if (text.compare(i, j - i, "the") == 0 && text.compare(j, 5, " king") == 0) j += 5;
      out.push_back(
          {static_cast<int64_t>(std::hash<std::string>()(text.substr(i, j - i)) % 1000), i, j});
      i = j;
    }
    return out;
  };
  return c;
}

TEST(BenchServeWorkload, ExactLengthsAndSharedPrefix) {
  int calls = 0;
  const TokenCounter counter = FakeCounter(&calls);
  WorkloadSpec spec;
  spec.input_len = 20;
  spec.shared_prefix_len = 50;
  spec.num_prompts = 12;
  spec.seed = 3;
  auto w = BuildWorkload(spec, &counter);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  ASSERT_EQ(w->prompts.size(), 12u);
  for (size_t i = 0; i < w->prompts.size(); ++i) {
    EXPECT_EQ(w->prompt_tokens[i], 70) << w->prompts[i];
    EXPECT_EQ(counter.count(w->prompts[i])->size(), 70u);
  }
  EXPECT_EQ(w->prefix_exact, 12u);
  // The prefix is shared byte for byte and the rest differs.
  const std::string head = w->prompts[0].substr(0, 100);
  for (const std::string& p : w->prompts) EXPECT_EQ(p.substr(0, 100), head);
  EXPECT_NE(w->prompts[0], w->prompts[1]);
  // Same seed, same prompts.
  auto again = BuildWorkload(spec, &counter);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->prompts, w->prompts);
}

TEST(BenchServeWorkload, WithoutCounterLengthsAreUnknown) {
  WorkloadSpec spec;
  spec.input_len = 10;
  spec.num_prompts = 3;
  auto w = BuildWorkload(spec, nullptr);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->prompt_tokens, (std::vector<int64_t>{-1, -1, -1}));
  EXPECT_EQ(w->token_counts, "none");
  EXPECT_EQ(w->prompts[0].size(), 40u);  // the 4-bytes-per-token estimate
}

TEST(BenchServeWorkload, DemoTokenizerGivesExactCounts) {
  const std::string gguf = std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/shakespeare-q8_0.gguf";
  auto counter = LocalTokenCounter(gguf);
  ASSERT_TRUE(counter.ok()) << counter.status().ToString();
  WorkloadSpec spec;
  spec.input_len = 37;
  spec.shared_prefix_len = 300;
  spec.num_prompts = 6;
  auto w = BuildWorkload(spec, &*counter);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  for (int64_t n : w->prompt_tokens) EXPECT_EQ(n, 337);
  EXPECT_EQ(w->prefix_exact, 6u);
}

TEST(BenchServeWorkload, SyntheticTextIsAsciiAndExtends) {
  const std::string a = SyntheticText(11, 200), b = SyntheticText(11, 800);
  EXPECT_GE(a.size(), 200u);
  EXPECT_EQ(b.substr(0, a.size()), a);  // longer texts extend shorter ones (same seed)
  EXPECT_NE(SyntheticText(12, 200), a);
  for (char c : b) EXPECT_TRUE(c == '\n' || (c >= 0x20 && c < 0x7f));
}

}  // namespace
}  // namespace sg::benchserve::load_test
