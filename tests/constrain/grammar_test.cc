// Token masks: the prefix-sharing walk equals a brute-force walk of every token (hand vocabulary,
// real qwen3 and llama2 vocabularies), with and without the budget filter; EOS only in accepting
// states; the matcher refuses disallowed tokens and applies masks exactly; budget-aware sampling
// always ends in an accepting state within max_new_tokens (demo vocabulary, byte fallback); the
// grammar cache compiles once per key, evicts least recently used, and reports bad input as
// InvalidArgument.
#include "engine/constrain/grammar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "constrain/vocab_fixture.h"
#include "engine/constrain/regex_parser.h"

namespace sg {
namespace grammar_test {
namespace {

using constrain_test::BruteForceMask;
using constrain_test::RealIndex;

std::shared_ptr<const Grammar> Compile(const std::string& regex,
                                       std::shared_ptr<const TokenIndex> index) {
  auto rx = ParseRegex(regex);
  EXPECT_TRUE(rx.ok()) << regex << ": " << rx.status().ToString();
  if (!rx.ok()) return nullptr;
  auto dfa = ByteDfa::Compile(*rx);
  EXPECT_TRUE(dfa.ok()) << regex << ": " << dfa.status().ToString();
  if (!dfa.ok()) return nullptr;
  return std::make_shared<const Grammar>(std::move(dfa).value(), std::move(index));
}

// MaskFor / MaskWithin of every DFA state against the brute-force definition.
void ExpectMasksMatchBruteForce(const Grammar& g, const std::string& label) {
  const ByteDfa& dfa = g.dfa();
  for (int32_t s = 0; s < dfa.num_states(); ++s) {
    const auto want = BruteForceMask(dfa, g.index(), s);
    const TokenMask& got = g.MaskFor(s);
    ASSERT_EQ(got.words.size(), static_cast<size_t>(g.index().vocab_size() + 63) / 64);
    int mismatches = 0;
    for (int32_t id = 0; id < g.index().vocab_size() && mismatches < 5; ++id) {
      if (got.Test(id) != want.allowed[id]) {
        ++mismatches;
        ADD_FAILURE() << label << " state " << s << " id " << id << " bytes ["
                      << g.index().TokenBytes(id) << "] want " << want.allowed[id];
      }
    }
    EXPECT_EQ(got.allowed, want.count) << label << " state " << s;
    EXPECT_EQ(got.max_next_distance, want.max_next_distance) << label << " state " << s;
    // Bits past the vocabulary stay clear.
    for (int32_t id = g.index().vocab_size(); id < static_cast<int32_t>(got.words.size() * 64);
         ++id) {
      EXPECT_FALSE(got.Test(id));
    }
    for (int32_t d : {0, 1, 2, 5}) {
      const auto want_d = BruteForceMask(dfa, g.index(), s, d);
      TokenMask within;
      g.MaskWithin(s, d, &within);
      TokenMask again;  // from the cache of filtered masks
      g.MaskWithin(s, d, &again);
      EXPECT_EQ(again.words, within.words);
      EXPECT_EQ(within.allowed, want_d.count) << label << " state " << s << " distance " << d;
      for (int32_t id = 0; id < g.index().vocab_size(); ++id) {
        if (within.Test(id) != want_d.allowed[id]) {
          ADD_FAILURE() << label << " state " << s << " distance " << d << " id " << id;
          break;
        }
      }
    }
  }
}

// A vocabulary with shared prefixes, dead prefixes followed by longer tokens, duplicates, bytes
// >= 0x80 and an EOS (id 0).
std::shared_ptr<const TokenIndex> HandIndex() {
  return std::make_shared<const TokenIndex>(
      std::vector<std::string>{"</s>", "a",  "ab",    "abc", "abcd", "b",   "1",        "12",
                               "123",  "1a", "x1",    "\"",  "\"a",  "a\"", "\"ab\"",   "true",
                               "tr",   "t",  "false", "f",   " ",    "a b", "\xC3\xA9", "\xC3",
                               "\xA9", "ab", "",      "9",   "99",   "999", "9999",     "99999x"},
      std::vector<int32_t>{0});
}

const char* const kRegexes[] = {"[0-9]{1,5}", "\"[a-z ]*\"", "(true|false)", "a(b|bc)*d?",
                                "\xC3\xA9+|[a-c]{2}"};

TEST(GrammarTest, HandVocabularyMatchesBruteForce) {
  for (const char* re : kRegexes) {
    auto g = Compile(re, HandIndex());
    ASSERT_NE(g, nullptr);
    ExpectMasksMatchBruteForce(*g, re);
  }
}

class RealVocabGrammarTest : public testing::TestWithParam<std::string> {};

TEST_P(RealVocabGrammarTest, MatchesBruteForce) {
#ifdef STREAMGEN_SANITIZED_BUILD
  // The brute-force reference walks every token from every state: 35 s on 151k tokens under
  // ASan. The sanitized builds check the same walk on the 32k and 2k vocabularies.
  if (GetParam() == "qwen3") GTEST_SKIP() << "Release build only";
#endif
  const auto index = RealIndex(GetParam());
  ASSERT_NE(index, nullptr);
  for (const char* re : {"[0-9]{1,5}", "\"[a-z ]*\"", "(true|false)",
                         "\\{\"name\": \"[a-z_]{1,12}\", \"n\": -?[0-9]+\\}"}) {
    auto g = Compile(re, index);
    ASSERT_NE(g, nullptr);
    ExpectMasksMatchBruteForce(*g, GetParam() + " " + re);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, RealVocabGrammarTest,
                         testing::Values("qwen3", "llama2", "demo"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(GrammarTest, EosOnlyWhenAccepting) {
  const auto index = RealIndex("qwen3");
  ASSERT_NE(index, nullptr);
  ASSERT_FALSE(index->eos_ids().empty());
  auto g = Compile("[0-9]{2,3}", index);
  ASSERT_NE(g, nullptr);
  for (int32_t s = 0; s < g->dfa().num_states(); ++s) {
    for (int32_t eos : index->eos_ids()) {
      EXPECT_EQ(g->MaskFor(s).Test(eos), g->dfa().IsAccepting(s)) << s;
      EXPECT_EQ(g->NextState(s, eos), g->dfa().IsAccepting(s) ? s : ByteDfa::kDead);
    }
  }
}

TEST(GrammarTest, MaskIsCachedPerState) {
  auto g = Compile("[0-9]{1,5}", HandIndex());
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->masks_computed(), 0);
  const TokenMask& a = g->MaskFor(g->dfa().start());
  EXPECT_EQ(&a, &g->MaskFor(g->dfa().start()));
  EXPECT_EQ(g->masks_computed(), 1);
  // Invalid states get the empty mask, not a crash.
  EXPECT_EQ(g->MaskFor(ByteDfa::kDead).allowed, 0);
  EXPECT_EQ(g->MaskFor(g->dfa().num_states()).allowed, 0);
  EXPECT_EQ(g->NextState(ByteDfa::kDead, 1), ByteDfa::kDead);
  EXPECT_EQ(g->NextState(g->dfa().start(), 1000), ByteDfa::kDead);
  EXPECT_EQ(g->NextState(g->dfa().start(), -1), ByteDfa::kDead);
}

TEST(GrammarTest, MasksFromManyThreadsAgree) {
  const auto index = RealIndex("llama2");
  ASSERT_NE(index, nullptr);
  auto g = Compile("\\{\"name\": \"[a-z_]{1,12}\", \"n\": -?[0-9]+\\}", index);
  ASSERT_NE(g, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&g, t] {
      TokenMask within;  // the cache of budget-filtered masks is shared too
      for (int32_t s = 0; s < g->dfa().num_states(); ++s) {
        const int32_t state = (s + t * 7) % g->dfa().num_states();
        (void)g->MaskFor(state);
        g->MaskWithin(state, s % 3, &within);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(g->masks_computed(), g->dfa().num_states());
  for (int32_t s = 0; s < g->dfa().num_states(); ++s) {
    EXPECT_EQ(g->MaskFor(s).allowed, BruteForceMask(g->dfa(), *index, s).count) << s;
  }
}

TEST(GrammarTest, MatcherAcceptRefusesDisallowedTokens) {
  auto g = Compile("[0-9]{1,5}", HandIndex());
  ASSERT_NE(g, nullptr);
  GrammarMatcher m(g);
  EXPECT_FALSE(m.CanEnd());
  const int32_t start = m.state();
  EXPECT_FALSE(m.Accept(1));   // "a"
  EXPECT_FALSE(m.Accept(0));   // EOS before any digit
  EXPECT_FALSE(m.Accept(26));  // empty bytes
  EXPECT_FALSE(m.Accept(31));  // "99999x": alive for 5 bytes, then dead
  EXPECT_EQ(m.state(), start);
  EXPECT_TRUE(m.Accept(8));  // "123"
  EXPECT_TRUE(m.CanEnd());
  EXPECT_FALSE(m.MustEnd());
  EXPECT_FALSE(m.Accept(8));  // 6 digits
  EXPECT_TRUE(m.Accept(7));   // "12" -> 5 digits
  EXPECT_TRUE(m.MustEnd());
  EXPECT_FALSE(m.Accept(6));
  EXPECT_TRUE(m.Accept(0));  // EOS: state unchanged
  EXPECT_TRUE(m.MustEnd());
}

TEST(GrammarTest, ApplyMaskSetsMinusInfinityExactly) {
  const auto index = RealIndex("qwen3");
  ASSERT_NE(index, nullptr);
  for (const char* re : {"[0-9]{1,5}", "[^0-9]*"}) {  // a small and a very large allowed set
    auto g = Compile(re, index);
    ASSERT_NE(g, nullptr);
    GrammarMatcher m(g);
    // A model's logits row is often padded past the tokenizer's vocabulary.
    std::vector<float> logits(static_cast<size_t>(index->vocab_size()) + 300);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>(i % 17) - 8.0f;
    const std::vector<float> before = logits;
    m.ApplyMask(logits, 1000);
    const TokenMask& mask = g->MaskFor(m.state());
    for (size_t i = 0; i < logits.size(); ++i) {
      const bool allowed =
          i < static_cast<size_t>(index->vocab_size()) && mask.Test(static_cast<int32_t>(i));
      if (allowed) {
        ASSERT_EQ(logits[i], before[i]) << re << " " << i;
      } else {
        ASSERT_TRUE(std::isinf(logits[i]) && logits[i] < 0) << re << " " << i;
      }
    }
  }
}

// With R tokens left, only tokens whose next state is within R - 1 bytes of acceptance.
TEST(GrammarTest, ApplyMaskFiltersByBudget) {
  const auto index = RealIndex("demo");
  ASSERT_NE(index, nullptr);
  auto g = Compile("\\{\"name\": \"[a-z]{2,10}\", \"n\": [0-9]{1,3}\\}", index);
  ASSERT_NE(g, nullptr);
  GrammarMatcher m(g);
  std::vector<float> logits(static_cast<size_t>(index->vocab_size()));
  for (int32_t remaining : {1, 2, 5, 20, 25, 1000}) {
    std::fill(logits.begin(), logits.end(), 0.0f);
    m.ApplyMask(logits, remaining);
    const auto want = BruteForceMask(g->dfa(), *index, m.state(), remaining - 1);
    const auto full = BruteForceMask(g->dfa(), *index, m.state());
    // A budget below the shortest text leaves no token that can finish: the full mask stands.
    const auto& expect = want.count > 0 ? want : full;
    for (int32_t id = 0; id < index->vocab_size(); ++id) {
      ASSERT_EQ(std::isfinite(logits[id]), expect.allowed[id]) << remaining << " id " << id;
    }
  }
}

// Random allowed tokens under a budget always finish a matching text in time (byte fallback lets
// every byte of a shortest completion be spelled).
TEST(GrammarTest, RandomSamplingEndsAcceptingWithinBudget) {
  const auto index = RealIndex("demo");
  ASSERT_NE(index, nullptr);
  ASSERT_FALSE(index->eos_ids().empty());
  const char* const regexes[] = {"[0-9]{1,5}",
                                 "\"[a-z ]*\"",
                                 "(true|false)",
                                 "[a-z]+( [a-z]+)*\\.",
                                 "\\{\"name\": \"[a-z]{2,10}\", \"n\": [0-9]{1,3}\\}",
                                 "(ab|cd)*e",
                                 "[A-Z][a-z ,]{0,40}!"};
  std::mt19937 rng(1234);
  std::vector<float> logits(static_cast<size_t>(index->vocab_size()));
  std::vector<int32_t> allowed;
  for (const char* re : regexes) {
    auto g = Compile(re, index);
    ASSERT_NE(g, nullptr);
    const int32_t min_len = g->dfa().MinBytesToAccept(g->dfa().start());
    for (int run = 0; run < 60; ++run) {
      const int32_t budget = min_len + static_cast<int32_t>(rng() % 30);
      GrammarMatcher m(g);
      std::string text;
      bool ended = false;
      for (int32_t remaining = budget; remaining >= 1 && !ended; --remaining) {
        std::fill(logits.begin(), logits.end(), 0.0f);
        m.ApplyMask(logits, remaining);
        allowed.clear();
        for (int32_t id = 0; id < index->vocab_size(); ++id) {
          if (std::isfinite(logits[id])) allowed.push_back(id);
        }
        ASSERT_FALSE(allowed.empty()) << re << " budget " << budget << " text " << text;
        const int32_t id = allowed[rng() % allowed.size()];
        ASSERT_TRUE(m.Accept(id)) << re << " id " << id;
        if (id == index->eos_ids()[0]) {
          ended = true;
        } else {
          text += index->TokenBytes(id);
        }
      }
      EXPECT_TRUE(m.CanEnd()) << re << " budget " << budget << " text [" << text << "]";
      EXPECT_TRUE(g->dfa().Matches(text)) << re << " [" << text << "]";
    }
  }
}

TEST(GrammarTest, CacheCompilesOncePerKey) {
  GrammarCache cache(HandIndex(), /*capacity=*/2);
  auto a = cache.Get(GrammarKind::kRegex, "[0-9]{1,5}");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = cache.Get(GrammarKind::kRegex, "[0-9]{1,5}");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 1);
  // Least recently used goes first: touching "[0-9]{1,5}" makes "(true|false)" the oldest.
  ASSERT_TRUE(cache.Get(GrammarKind::kRegex, "(true|false)").ok());
  ASSERT_TRUE(cache.Get(GrammarKind::kRegex, "[0-9]{1,5}").ok());  // hit, now most recent
  ASSERT_TRUE(cache.Get(GrammarKind::kRegex, "a+").ok());          // evicts (true|false)
  EXPECT_EQ(cache.misses(), 3);
  auto again = cache.Get(GrammarKind::kRegex, "[0-9]{1,5}");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), a->get());
  EXPECT_EQ(cache.misses(), 3);
  ASSERT_TRUE(cache.Get(GrammarKind::kRegex, "(true|false)").ok());  // recompiled
  EXPECT_EQ(cache.misses(), 4);
}

TEST(GrammarTest, CacheKindIsPartOfTheKey) {
  GrammarCache cache(HandIndex());
  auto schema = cache.Get(GrammarKind::kJsonSchema, "{\"type\": \"boolean\"}");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_TRUE((*schema)->dfa().Matches("true"));
  EXPECT_FALSE((*schema)->dfa().Matches("1"));
  // The same text as a regex is a different grammar.
  auto regex = cache.Get(GrammarKind::kRegex, "{\"type\": \"boolean\"}");
  if (regex.ok()) {
    EXPECT_NE(regex->get(), schema->get());
  }
  EXPECT_EQ(cache.misses(), 2);
}

TEST(GrammarTest, CacheReportsBadInputAsInvalidArgument) {
  GrammarCache cache(HandIndex());
  for (const char* bad : {"(", "a{3,2}", "(?=a)b", "[]"}) {
    auto g = cache.Get(GrammarKind::kRegex, bad);
    ASSERT_FALSE(g.ok()) << bad;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << bad << g.status().ToString();
  }
  for (const char* bad : {"{", "", "{\"type\": \"object\",}", "{\"type\": 12}", "\xFF"}) {
    auto g = cache.Get(GrammarKind::kJsonSchema, bad);
    ASSERT_FALSE(g.ok()) << bad;
    EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << bad << g.status().ToString();
  }
  // Errors are not cached: asking again compiles again.
  const int64_t misses = cache.misses();
  EXPECT_FALSE(cache.Get(GrammarKind::kRegex, "(").ok());
  EXPECT_EQ(cache.misses(), misses + 1);
}

TEST(GrammarTest, CacheFromManyThreads) {
  GrammarCache cache(HandIndex());
  const std::vector<std::string> keys = {"[0-9]{1,5}", "(true|false)", "a+", "b*c"};
  std::vector<std::vector<const Grammar*>> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (const auto& k : keys) {
          auto g = cache.Get(GrammarKind::kRegex, k);
          got[t].push_back(g.ok() ? g->get() : nullptr);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(cache.hits() + cache.misses(), 8 * 20 * 4);
  // Once cached, every thread sees the cached grammar.
  for (size_t k = 0; k < keys.size(); ++k) {
    auto cached = cache.Get(GrammarKind::kRegex, keys[k]);
    ASSERT_TRUE(cached.ok());
    for (int t = 0; t < 8; ++t) EXPECT_EQ(got[t][got[t].size() - keys.size() + k], cached->get());
  }
}

TEST(GrammarTest, ASpentMaskBudgetStillGivesExactMasks) {
  // Room for two cached masks: the third state's mask is computed per call, and equal.
  auto index = HandIndex();
  const int64_t mask_bytes = static_cast<int64_t>((index->vocab_size() + 63) / 64 * 8);
  auto budget = std::make_shared<MaskBudget>(2 * mask_bytes);
  auto rx = ParseRegex("[0-9]{1,5}");
  ASSERT_TRUE(rx.ok());
  auto dfa = ByteDfa::Compile(*rx);
  ASSERT_TRUE(dfa.ok());
  {
    const Grammar g(std::move(dfa).value(), index, budget);
    ASSERT_GE(g.dfa().num_states(), 3);
    for (int32_t s = 0; s < g.dfa().num_states(); ++s) {
      const auto want = constrain_test::BruteForceMask(g.dfa(), g.index(), s);
      for (int round = 0; round < 2; ++round) {
        const TokenMask& got = g.MaskFor(s);
        EXPECT_EQ(got.allowed, want.count) << "state " << s;
        for (int32_t id = 0; id < g.index().vocab_size(); ++id) {
          EXPECT_EQ(got.Test(id), want.allowed[id]) << "state " << s << " id " << id;
        }
      }
    }
    EXPECT_EQ(g.masks_computed(), 2);
    EXPECT_EQ(budget->bytes_left.load(), 0);
  }
  EXPECT_EQ(budget->bytes_left.load(), 2 * mask_bytes);  // given back with the grammar
}

}  // namespace
}  // namespace grammar_test
}  // namespace sg
