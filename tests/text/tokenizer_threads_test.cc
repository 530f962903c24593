// Encode/Decode on one shared Tokenizer from several threads (the BPE word cache is shared):
// every thread must get exactly the single-threaded results.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/text/tokenizer.h"

namespace sg {
namespace {

TEST(TokenizerThreads, ConcurrentEncodeMatchesSerial) {
  auto tok = Tokenizer::Load(STREAMGEN_SHARED_DIR "/refdata/tokenizers/llama3");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::vector<std::string> texts;
  std::ifstream in(STREAMGEN_SHARED_DIR "/refdata/golden/test_strings.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object()) texts.push_back(j["text"].get<std::string>());
  }
  ASSERT_FALSE(texts.empty());
  // Reference results from a fresh tokenizer so its cache is not the one under test.
  auto ref_tok = Tokenizer::Load(STREAMGEN_SHARED_DIR "/refdata/tokenizers/llama3");
  ASSERT_TRUE(ref_tok.ok());
  std::vector<std::vector<int32_t>> want;
  for (const auto& t : texts) want.push_back((*ref_tok)->Encode(t, true).ids);

  constexpr int kThreads = 4;
  std::vector<int> mismatches(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t i = 0; i < texts.size(); ++i) {
          size_t k = (i * 7 + static_cast<size_t>(t) * 13) % texts.size();  // different orders
          Encoding e = (*tok)->Encode(texts[k], true);
          if (e.ids != want[k]) ++mismatches[static_cast<size_t>(t)];
          if ((*tok)->Decode(e.ids, false) != (*ref_tok)->Decode(want[k], false)) {
            ++mismatches[static_cast<size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[static_cast<size_t>(t)], 0) << t;
}

}  // namespace
}  // namespace sg
