// Tokenizer::Load on vocabulary-only GGUF files: the GGUF vocabulary is translated to a
// tokenizer.json (gguf_vocab.h) and must then tokenize like Hugging Face's AutoTokenizer
// (golden/gguf-vocab/*.jsonl, ids without special tokens).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"
#include "support/test_data.h"

namespace sg {
namespace {

class GgufLoadTest : public testing::TestWithParam<std::string> {};

TEST_P(GgufLoadTest, MatchesAutoTokenizerIds) {
  const std::string name = GetParam();
  auto tok = Tokenizer::Load(test::kRefdataDir + "/gguf-vocab/ggml-vocab-" + name + ".gguf");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::ifstream in(test::kRefdataDir + "/golden/gguf-vocab/ggml-vocab-" + name + ".jsonl");
  std::string line;
  int ok = 0, total = 0, reported = 0;
  while (std::getline(in, line)) {
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (!row.is_object()) continue;
    const std::string text = row["text"].get<std::string>();
    auto want = row["ids"].get<std::vector<int32_t>>();
    auto got = (*tok)->Encode(text, false).ids;
    ++total;
    if (got == want) {
      ++ok;
    } else if (reported++ < 5) {
      ADD_FAILURE() << name << " [" << text << "]";
    }
  }
  EXPECT_GT(total, 0);
  std::printf("[agreement] gguf %s: %d/%d\n", name.c_str(), ok, total);
}

INSTANTIATE_TEST_SUITE_P(Vocabs, GgufLoadTest,
                         testing::Values("llama-spm", "llama-bpe", "gpt-2", "qwen2", "phi-3",
                                         "deepseek-coder"));

TEST(GgufLoad, MissingFileIsNotFound) {
  EXPECT_FALSE(Tokenizer::Load(test::kRefdataDir + "/gguf-vocab/nope.gguf").ok());
}

}  // namespace
}  // namespace sg
