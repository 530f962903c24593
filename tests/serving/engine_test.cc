// The serving engine on the bundled demo model (models/demo): batching invariance, seeded
// sampling, stopping, cancellation freeing KV, prefill logprobs, shutdown.
#include "engine/serving/engine.h"

#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "engine/runtime/executor.h"
#include "engine/runtime/greedy.h"

namespace sg {
namespace {

const std::string kModel = std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/shakespeare-q8_0.gguf";

// Collects one request's events; Wait() blocks until the terminal event.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<GenerationEvent> events;
  bool done = false;
  GenerationCallback Callback() {
    return [this](GenerationEvent&& e) {
      std::lock_guard lock(mu);
      done = done || e.end.has_value() || e.error.has_value();
      events.push_back(std::move(e));
      cv.notify_all();
    };
  }
  void Wait() {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return done; }));
  }
  std::vector<int32_t> Ids() {
    std::lock_guard lock(mu);
    std::vector<int32_t> ids;
    for (const auto& e : events) {
      if (e.token) ids.push_back(e.token->id);
    }
    return ids;
  }
  size_t Count() {
    std::lock_guard lock(mu);
    return events.size();
  }
};

class EngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto model = LoadModel(kModel);
    ASSERT_TRUE(model.ok()) << model.status().message();
    model_ = std::move(*model).release();
    auto tok = Tokenizer::Load(kModel);
    ASSERT_TRUE(tok.ok()) << tok.status().message();
    tokenizer_ = std::move(*tok).release();
    pool_ = new ThreadPool(2);
  }
  static void TearDownTestSuite() {
    delete pool_;
    delete tokenizer_;
    delete model_;
  }

  static EngineOptions Options(int64_t prefill = 64, int64_t kv = 8192) {
    EngineOptions o;
    o.max_batch_prefill_tokens = prefill;
    o.max_batch_total_tokens = kv;
    o.max_batch_size = 64;
    o.max_total_tokens = 256;
    o.eos_ids = {2};
    return o;
  }

  std::unique_ptr<Engine> MakeEngine(int64_t prefill = 64, int64_t kv = 8192) {
    return MakeEngine(Options(prefill, kv));
  }

  std::unique_ptr<Engine> MakeEngine(const EngineOptions& o) {
    auto e = Engine::Create(*model_, *tokenizer_, *pool_, o);
    EXPECT_TRUE(e.ok()) << e.status().message();
    std::unique_ptr<Engine> engine = std::move(*e);
    EXPECT_TRUE(engine->WarmUp().ok());
    engine->Start();
    return engine;
  }

  GenerationRequest Request(const std::string& prompt, int max_new) {
    GenerationRequest r;
    r.prompt_ids = tokenizer_->Encode(prompt, true).ids;
    r.stopping.max_new_tokens = max_new;
    r.stopping.ignore_eos = true;
    return r;
  }

  // Greedy ids from a plain single-sequence executor loop: the reference.
  std::vector<int32_t> GreedyAlone(const std::vector<int32_t>& prompt, int n) {
    ExecutorOptions eo;
    eo.max_batch_tokens = 256;
    eo.kv_token_budget = 512;
    ThreadPool own_pool(2);  // the engine thread owns pool_ while it runs
    auto ex = Executor::Create(*model_, own_pool, eo);
    EXPECT_TRUE(ex.ok());
    KvAllocation kv = (*ex)->NewSequence();
    std::vector<float> logits(model_->config.vocab_size);
    std::vector<int32_t> ids = prompt, out;
    int64_t pos = 0;
    for (int i = 0; i < n; ++i) {
      StepSequence s{std::span<const int32_t>(ids.data() + pos, ids.size() - pos), pos, &kv, false};
      EXPECT_TRUE((*ex)->Step(std::span<const StepSequence>(&s, 1), logits).ok());
      pos = static_cast<int64_t>(ids.size());
      const int32_t next = Argmax(logits);
      out.push_back(next);
      ids.push_back(next);
    }
    return out;
  }

  static Model* model_;
  static Tokenizer* tokenizer_;
  static ThreadPool* pool_;
};
Model* EngineTest::model_ = nullptr;
Tokenizer* EngineTest::tokenizer_ = nullptr;
ThreadPool* EngineTest::pool_ = nullptr;

TEST_F(EngineTest, ConcurrentGreedyRequestsMatchEachAlone) {
  auto engine = MakeEngine(/*prefill=*/16);  // prompts longer than 16 tokens are chunked
  const std::vector<std::string> prompts = {
      "ROMEO:\n", "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\n", "O",
      "KING RICHARD III:\nNow is the winter of our discontent\nMade glorious summer",
      "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\nDeny thy father and refuse thy name;"};
  std::vector<std::unique_ptr<Collector>> cs;
  for (const auto& p : prompts) {
    cs.push_back(std::make_unique<Collector>());
    engine->Submit(Request(p, 24), cs.back()->Callback());
  }
  for (size_t i = 0; i < prompts.size(); ++i) {
    cs[i]->Wait();
    const auto& last = cs[i]->events.back();
    ASSERT_TRUE(last.end.has_value());
    EXPECT_EQ(last.end->finish_reason, FinishReason::kLength);
    EXPECT_EQ(last.end->generated_tokens, 24);
    EXPECT_FALSE(last.end->sampled);
    EXPECT_EQ(cs[i]->Ids(), GreedyAlone(Request(prompts[i], 1).prompt_ids, 24)) << prompts[i];
    std::string joined;
    for (const auto& e : cs[i]->events) joined += e.token->text;
    EXPECT_EQ(joined, last.end->generated_text);
  }
  EXPECT_GT(engine->stats().steps_prefill.load(), 0);
}

// Prefix cache: requests sharing a long prompt prefix, submitted together with a small step
// budget (so the later ones are admitted after the first computed the shared blocks) and then
// again one by one, give exactly the greedy ids of each run alone, report the prompt tokens they
// took from the cache, and leave every KV block free.
TEST_F(EngineTest, PrefixCacheKeepsGreedyOutputsAndFreesEveryBlock) {
  EngineOptions o = Options(/*prefill=*/32);
  o.prefix_caching = true;
  auto engine = MakeEngine(o);
  const std::string system =
      "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
      "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. "
      "resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the "
      "people.\n\n";
  const std::vector<std::string> tails = {"All:\n", "ROMEO:\n", "JULIET:\nO", "KING:\nNow"};
  ASSERT_GE(Request(system, 1).prompt_ids.size(), 48u);
  std::vector<std::vector<int32_t>> want;
  for (const auto& t : tails) want.push_back(GreedyAlone(Request(system + t, 1).prompt_ids, 12));

  std::vector<std::unique_ptr<Collector>> cs;
  for (const auto& t : tails) {
    cs.push_back(std::make_unique<Collector>());
    engine->Submit(Request(system + t, 12), cs.back()->Callback());
  }
  int64_t cached_total = 0;
  for (size_t i = 0; i < tails.size(); ++i) {
    cs[i]->Wait();
    ASSERT_TRUE(cs[i]->events.back().end.has_value());
    EXPECT_EQ(cs[i]->Ids(), want[i]) << tails[i];
    cached_total += cs[i]->events.back().end->cached_tokens;
  }
  EXPECT_GE(cached_total, 32);  // the later ones found at least two of the first's blocks
  for (size_t i = 0; i < tails.size(); ++i) {  // one at a time: every one hits
    Collector c;
    engine->Submit(Request(system + tails[i], 12), c.Callback());
    c.Wait();
    EXPECT_EQ(c.Ids(), want[i]) << tails[i];
    EXPECT_GE(c.events.back().end->cached_tokens, 32) << tails[i];
    EXPECT_EQ(c.events.back().end->cached_tokens % 16, 0);
  }
  const EngineStats& st = engine->stats();
  for (int i = 0; i < 2000 && st.kv_blocks_free.load() != st.kv_blocks_total.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(st.kv_blocks_free.load(), st.kv_blocks_total.load());
  EXPECT_GT(st.kv_blocks_cached.load(), 0);
  EXPECT_GT(st.prefix_hit_tokens.load(), 0);
  EXPECT_LE(st.prefix_hit_tokens.load(), st.prefix_queried_tokens.load());
}

// Memory pressure: a KV cache of 8 blocks, prompts of one or two full blocks each, one at a time;
// the cache fills with published blocks that nobody uses, which must be evicted (least recently
// released first) for later requests, and every output is still the greedy text of the request
// alone. Repeating an early prompt after its blocks were evicted recomputes it correctly.
TEST_F(EngineTest, PrefixCacheEvictsUnderMemoryPressureAndStaysCorrect) {
  EngineOptions o = Options(/*prefill=*/64, /*kv=*/128);
  o.max_total_tokens = 128;
  o.prefix_caching = true;
  auto engine = MakeEngine(o);
  const std::vector<std::string> prompts = {
      "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n",
      "MENENIUS:\nWhat work's, my countrymen, in hand? where go you\nWith bats and clubs?\n",
      "KING RICHARD III:\nNow is the winter of our discontent\nMade glorious summer by this sun\n",
      "JULIET:\nO Romeo, Romeo! wherefore art thou Romeo?\nDeny thy father and refuse thy name;\n",
      "ROMEO:\nBut, soft! what light through yonder window breaks?\nIt is the east, and Juliet\n",
      "HAMLET:\nTo be, or not to be, that is the question:\nWhether 'tis nobler in the mind\n",
      "MACBETH:\nTomorrow, and tomorrow, and tomorrow,\nCreeps in this petty pace from day to "
      "day\n",
      "PORTIA:\nThe quality of mercy is not strain'd,\nIt droppeth as the gentle rain from "
      "heaven\n"};
  for (int round = 0; round < 2; ++round) {
    for (const auto& p : prompts) {
      Collector c;
      engine->Submit(Request(p, 8), c.Callback());
      c.Wait();
      ASSERT_TRUE(c.events.back().end.has_value()) << p;
      EXPECT_EQ(c.Ids(), GreedyAlone(Request(p, 1).prompt_ids, 8)) << p;
    }
  }
  const EngineStats& st = engine->stats();
  for (int i = 0; i < 2000 && st.kv_blocks_free.load() != st.kv_blocks_total.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(st.kv_blocks_total.load(), 8);
  EXPECT_EQ(st.kv_blocks_free.load(), 8);
  EXPECT_GT(st.prefix_evictions.load(), 0);
  // Cycling through more prompts than the cache holds evicts each before its repeat (LRU); the
  // prompt just served is still cached.
  Collector again;
  engine->Submit(Request(prompts.back(), 8), again.Callback());
  again.Wait();
  EXPECT_GT(again.events.back().end->cached_tokens, 0);
  EXPECT_EQ(again.Ids(), GreedyAlone(Request(prompts.back(), 1).prompt_ids, 8));
}

// Admission pays for a cached prefix once (scheduler.h, the block ledger). A KV pool of 32 blocks
// and requests of a ~10-block shared prompt + 8 new tokens (12 blocks reserved each): by token
// reservations two run at a time; with the prefix cached, eight need 2 new blocks each and all run
// at once. Every output is still the request's greedy text alone, and every block comes back.
TEST_F(EngineTest, SharedCachedPrefixIsPaidForOnceSoMoreRequestsRunAtOnce) {
  EngineOptions o = Options(/*prefill=*/256, /*kv=*/512);
  o.prefix_caching = true;
  auto engine = MakeEngine(o);
  std::string system = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n";
  while (Request(system, 1).prompt_ids.size() < 150) system += "All:\nSpeak, speak.\n\n";
  const int64_t shared = static_cast<int64_t>(Request(system, 1).prompt_ids.size());
  ASSERT_LE(shared, 170);
  const std::vector<std::string> tails = {"All:\n",      "ROMEO:\n",  "JULIET:\nO", "KING:\nNow",
                                          "MENENIUS:\n", "HAMLET:\n", "PORTIA:\n",  "MACBETH:\n"};
  for (const auto& t : tails) {
    ASSERT_LE(static_cast<int64_t>(Request(system + t, 1).prompt_ids.size()) + 8, 192) << t;
  }
  {  // publishes the shared blocks; they stay cached, used by nobody
    Collector warm;
    engine->Submit(Request(system + "All:\n", 8), warm.Callback());
    warm.Wait();
    ASSERT_TRUE(warm.events.back().end.has_value());
  }
  std::vector<std::vector<int32_t>> want;
  for (const auto& t : tails) want.push_back(GreedyAlone(Request(system + t, 1).prompt_ids, 8));
  const EngineStats& st = engine->stats();
  std::vector<std::unique_ptr<Collector>> cs;
  for (const auto& t : tails) {
    cs.push_back(std::make_unique<Collector>());
    engine->Submit(Request(system + t, 8), cs.back()->Callback());
  }
  int64_t most_running = 0;
  auto all_done = [&] {
    for (auto& c : cs) {
      std::lock_guard lock(c->mu);
      if (!c->done) return false;
    }
    return true;
  };
  for (int i = 0; i < 600000 && !all_done(); ++i) {
    most_running = std::max(most_running, st.running.load());
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  for (size_t i = 0; i < tails.size(); ++i) {
    cs[i]->Wait();
    ASSERT_TRUE(cs[i]->events.back().end.has_value()) << tails[i];
    EXPECT_EQ(cs[i]->Ids(), want[i]) << tails[i];
    EXPECT_GE(cs[i]->events.back().end->cached_tokens, shared / 16 * 16) << tails[i];
  }
  EXPECT_EQ(most_running, 8);
  for (int i = 0; i < 2000 && st.kv_blocks_free.load() != st.kv_blocks_total.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(st.kv_blocks_total.load(), 32);
  EXPECT_EQ(st.kv_blocks_free.load(), 32);
}

// Without the flag (the engine default) nothing is cached.
TEST_F(EngineTest, PrefixCacheIsOffByDefault) {
  auto engine = MakeEngine();
  for (int i = 0; i < 2; ++i) {
    Collector c;
    engine->Submit(Request("First Citizen:\nBefore we proceed any further, hear me speak.\n", 4),
                   c.Callback());
    c.Wait();
    EXPECT_EQ(c.events.back().end->cached_tokens, 0);
  }
  EXPECT_EQ(engine->stats().kv_blocks_cached.load(), 0);
}

TEST_F(EngineTest, SeededSamplingIsReproducibleWhateverElseIsInTheBatch) {
  auto engine = MakeEngine();
  auto sampled = [&](uint64_t seed) {
    GenerationRequest r = Request("ROMEO:\n", 32);
    r.sampling.do_sample = true;
    r.sampling.temperature = 0.8f;
    r.sampling.seed = seed;
    return r;
  };
  Collector alone;
  engine->Submit(sampled(42), alone.Callback());
  alone.Wait();
  std::vector<std::unique_ptr<Collector>> noise;
  for (int i = 0; i < 6; ++i) {
    noise.push_back(std::make_unique<Collector>());
    GenerationRequest r = sampled(1000 + i);
    r.prompt_ids = Request("First Citizen:\n", 1).prompt_ids;
    engine->Submit(std::move(r), noise.back()->Callback());
  }
  Collector crowded;
  engine->Submit(sampled(42), crowded.Callback());
  Collector other;
  engine->Submit(sampled(43), other.Callback());
  crowded.Wait();
  other.Wait();
  for (auto& n : noise) n->Wait();
  EXPECT_EQ(alone.Ids(), crowded.Ids());
  EXPECT_NE(alone.Ids(), other.Ids());
  EXPECT_TRUE(crowded.events.back().end->sampled);
  EXPECT_EQ(crowded.events.back().end->seed, 42u);
}

TEST_F(EngineTest, StopSequenceAcrossTokens) {
  auto engine = MakeEngine();
  Collector free_run;
  engine->Submit(Request("ROMEO:\n", 40), free_run.Callback());
  free_run.Wait();
  const std::string text = free_run.events.back().end->generated_text;
  // A stop string spanning tokens 3 and 4 that ends on a token boundary (TGI's rule: the rolling
  // text must END with it).
  const std::string t2 = free_run.events[2].token->text, t3 = free_run.events[3].token->text;
  const std::string stop = t2.substr(t2.size() > 2 ? t2.size() - 2 : 0) + t3;
  GenerationRequest r = Request("ROMEO:\n", 40);
  r.stopping.stop_sequences = {stop};
  Collector stopped;
  engine->Submit(std::move(r), stopped.Callback());
  stopped.Wait();
  const GenerationEnd& end = *stopped.events.back().end;
  EXPECT_EQ(end.finish_reason, FinishReason::kStopSequence);
  EXPECT_EQ(end.generated_text, text.substr(0, end.generated_text.size()));
  EXPECT_TRUE(end.generated_text.ends_with(stop));
  EXPECT_LE(end.generated_tokens, 4);
}

TEST_F(EngineTest, CancellationFreesKvAndStopsEvents) {
  auto engine = MakeEngine();
  const int64_t total = engine->stats().kv_blocks_total.load();
  Collector running, queued;
  const uint64_t id = engine->Submit(Request("ROMEO:\n", 200), running.Callback());
  {
    std::unique_lock lock(running.mu);
    ASSERT_TRUE(running.cv.wait_for(lock, std::chrono::seconds(30),
                                    [&] { return running.events.size() >= 2; }));
  }
  engine->Cancel(id);
  engine->Cancel(engine->Submit(Request("JULIET:\n", 200), queued.Callback()));
  for (int i = 0; i < 2000 && engine->stats().kv_blocks_free.load() != total; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(engine->stats().kv_blocks_free.load(), total);
  EXPECT_EQ(engine->stats().running.load(), 0);
  const size_t seen = running.Count();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(running.Count(), seen);
  EXPECT_LT(seen, 200u);
  EXPECT_GE(engine->stats().cancelled.load(), 1);
  // Still serving.
  Collector after;
  engine->Submit(Request("O", 3), after.Callback());
  after.Wait();
  EXPECT_EQ(after.Ids().size(), 3u);
}

TEST_F(EngineTest, TopTokensAndPrefillLogprobs) {
  auto engine = MakeEngine(/*prefill=*/4);  // the prompt's logprobs span several chunks
  GenerationRequest r = Request("First Citizen:\nBefore we proceed", 3);
  r.top_n_tokens = 3;
  r.prefill_logprobs = true;
  const size_t n = r.prompt_ids.size();
  Collector c;
  engine->Submit(std::move(r), c.Callback());
  c.Wait();
  for (const auto& e : c.events) {
    ASSERT_GE(e.top_tokens.size(), 3u);
    EXPECT_EQ(e.top_tokens[0].id, e.token->id);
    EXPECT_FLOAT_EQ(e.top_tokens[0].logprob, e.token->logprob);
    EXPECT_LE(e.token->logprob, 0.0f);
  }
  const auto& prefill = c.events.back().end->prefill;
  ASSERT_EQ(prefill.size(), n);
  EXPECT_TRUE(std::isnan(prefill[0].logprob));
  for (size_t i = 1; i < n; ++i) EXPECT_LE(prefill[i].logprob, 0.0f);
}

// A greedy request that reports no token logprob (a plain /generate answer) takes the sampler's
// argmax-only path: the same ids, and the logprob is left NaN (it was never computed).
TEST_F(EngineTest, GreedyWithoutTokenLogprobPicksTheSameTokens) {
  auto engine = MakeEngine();
  const std::string prompt = "KING RICHARD III:\nNow is the winter";
  GenerationRequest with = Request(prompt, 16), without = Request(prompt, 16);
  without.token_logprob = false;
  Collector a, b;
  engine->Submit(std::move(with), a.Callback());
  engine->Submit(std::move(without), b.Callback());
  a.Wait();
  b.Wait();
  EXPECT_EQ(b.Ids(), a.Ids());
  EXPECT_EQ(b.Ids(), GreedyAlone(Request(prompt, 1).prompt_ids, 16));
  EXPECT_EQ(b.events.back().end->generated_text, a.events.back().end->generated_text);
  for (size_t i = 0; i < a.events.size(); ++i) {
    EXPECT_LE(a.events[i].token->logprob, 0.0f);
    EXPECT_TRUE(std::isnan(b.events[i].token->logprob)) << i;
  }
}

// The logits buffer holds a row per sequence plus prompt_logprob_rows, not a row per batch token.
TEST_F(EngineTest, LogitsBufferHoldsTheSampledRowsOnly) {
  EngineOptions o = Options(/*prefill=*/256);
  o.max_batch_size = 4;
  o.prompt_logprob_rows = 8;
  auto engine = MakeEngine(o);
  const int64_t row_bytes = model_->config.vocab_size * static_cast<int64_t>(sizeof(float));
  EXPECT_EQ(engine->logits_buffer_bytes(), (4 + 8) * row_bytes);
  // A token budget below sequences + extra rows bounds the buffer instead (rows <= tokens).
  o.max_batch_prefill_tokens = 10;
  EXPECT_EQ(MakeEngine(o)->logits_buffer_bytes(), 10 * row_bytes);
}

// With few extra rows, a prompt-logprob sequence is prefilled in capped chunks; every prompt
// logprob still equals the one computed with rows for the whole prompt in one step, while other
// sequences share the steps.
TEST_F(EngineTest, PromptLogprobsBeyondTheRowCapAreAllCorrect) {
  const std::string long_prompt =
      "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.";
  auto run = [&](int64_t extra_rows, int64_t* prefill_steps) {
    EngineOptions o = Options(/*prefill=*/256);
    o.max_batch_size = 4;
    o.prompt_logprob_rows = extra_rows;
    auto engine = MakeEngine(o);
    std::vector<std::unique_ptr<Collector>> cs;
    for (int i = 0; i < 3; ++i) {  // two prompt-logprob requests beside a plain one
      GenerationRequest r = Request(i == 1 ? "ROMEO:\n" : long_prompt, 6);
      r.prefill_logprobs = i != 1;
      cs.push_back(std::make_unique<Collector>());
      engine->Submit(std::move(r), cs.back()->Callback());
    }
    for (auto& c : cs) c->Wait();
    *prefill_steps = engine->stats().steps_prefill.load();
    return cs;
  };
  const size_t n = Request(long_prompt, 1).prompt_ids.size();
  ASSERT_GT(n, 20u);
  int64_t capped_steps = 0, whole_steps = 0;
  auto capped = run(/*extra_rows=*/3, &capped_steps);
  auto whole = run(/*extra_rows=*/256, &whole_steps);
  EXPECT_GT(capped_steps, whole_steps);  // the cap really chunked the prompts
  for (int i : {0, 2}) {
    const auto& got = capped[i]->events.back().end->prefill;
    const auto& want = whole[i]->events.back().end->prefill;
    ASSERT_EQ(got.size(), n);
    ASSERT_EQ(want.size(), n);
    EXPECT_TRUE(std::isnan(got[0].logprob));
    for (size_t k = 0; k < n; ++k) {
      EXPECT_EQ(got[k].id, want[k].id);
      EXPECT_EQ(got[k].text, want[k].text);
      if (k > 0) {
        EXPECT_NEAR(got[k].logprob, want[k].logprob, 1e-4) << "request " << i << " token " << k;
      }
    }
    EXPECT_EQ(capped[i]->Ids(), whole[i]->Ids());
  }
  EXPECT_TRUE(capped[1]->events.back().end->prefill.empty());
  EXPECT_EQ(capped[1]->Ids(), whole[1]->Ids());
}

TEST_F(EngineTest, ShutdownFailsWhatIsLeftAtTheDeadline) {
  auto engine = MakeEngine();
  Collector c;
  engine->Submit(Request("ROMEO:\n", 250), c.Callback());
  engine->Shutdown(std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
  ASSERT_TRUE(c.done);
  ASSERT_TRUE(c.events.back().error.has_value());
  EXPECT_EQ(c.events.back().error->kind, GenerationErrorKind::kShutdown);
  Collector late;
  engine->Submit(Request("O", 2), late.Callback());
  ASSERT_TRUE(late.done);
  EXPECT_TRUE(late.events.back().error.has_value());
}

}  // namespace
}  // namespace sg
