// IncrementalDetokenizer on the real tokenizers of refdata (llama2, mistral, gpt2, llama3, qwen3):
// the golden token streams must stream to Hugging Face's own decodes, and thousands of random id
// sequences (byte-fallback pieces, partial UTF-8 pieces, characters split across tokens, special
// tokens) must concatenate to Decode(all ids), every piece valid UTF-8, skip on and off.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "detokenizer_utf8.h"
#include "engine/text/detokenizer.h"
#include "engine/text/tokenizer.h"
#include "support/test_data.h"

namespace sg {
namespace {

using testing::IsValidUtf8;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return rows;
}

struct FamilyStream {
  std::string text;
  bool pieces_valid = true;
  bool special_flags_right = true;
};

FamilyStream StreamFamily(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip,
                          const std::vector<int32_t>* prompt = nullptr) {
  IncrementalDetokenizer detok(tok, skip);
  if (prompt != nullptr) detok.SetPrompt(*prompt);
  FamilyStream out;
  for (int32_t id : ids) {
    const TextPiece p = detok.Push(id);
    out.pieces_valid = out.pieces_valid && IsValidUtf8(p.text);
    out.special_flags_right = out.special_flags_right && p.special == tok.IsSpecial(id);
    out.text += p.text;
  }
  const std::string rest = detok.Flush();
  out.pieces_valid = out.pieces_valid && IsValidUtf8(rest);
  out.text += rest;
  return out;
}

class FamilyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    StatusOr<std::unique_ptr<Tokenizer>> tok =
        Tokenizer::Load(test::kRefdataDir + "/tokenizers/" + GetParam());
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tok_ = std::move(*tok);
  }
  std::string Golden(const std::string& file) const {
    return test::kRefdataDir + "/golden/tokenize/" + GetParam() + "/" + file;
  }
  std::unique_ptr<Tokenizer> tok_;
};

TEST_P(FamilyTest, GoldenStreamsMatchHuggingFaceDecode) {
  const std::vector<nlohmann::json> rows = ReadJsonl(Golden("tokenize.jsonl"));
  ASSERT_GT(rows.size(), 200u);
  for (const nlohmann::json& row : rows) {
    ASSERT_TRUE(row.is_object());
    const std::vector<int32_t> ids = row["ids_special"].get<std::vector<int32_t>>();
    const FamilyStream kept = StreamFamily(*tok_, ids, false);
    EXPECT_EQ(kept.text, row["text"].get<std::string>()) << "row " << row["id"];
    EXPECT_TRUE(kept.pieces_valid) << "row " << row["id"];
    EXPECT_TRUE(kept.special_flags_right) << "row " << row["id"];
    const FamilyStream skipped = StreamFamily(*tok_, ids, true);
    EXPECT_EQ(skipped.text, row["text_skip"].get<std::string>()) << "row " << row["id"];
    EXPECT_TRUE(skipped.pieces_valid) << "row " << row["id"];
  }
}

// Ids that stress streaming: pieces that are partial UTF-8 alone (their single decode holds
// U+FFFD), special tokens, the ids of multi-byte characters that encode into several tokens.
std::vector<int32_t> InterestingIds(const Tokenizer& tok, const std::string& decode_single) {
  std::vector<int32_t> ids;
  for (const nlohmann::json& row : ReadJsonl(decode_single)) {
    if (row.is_object() && row["text"].get<std::string>().find(kReplacement) != std::string::npos) {
      ids.push_back(row["id"].get<int32_t>());
    }
  }
  for (int32_t id = 0; id < tok.vocab_size(); ++id) {
    if (tok.IsSpecial(id)) ids.push_back(id);
  }
  for (const char* text :
       {"\xF0\x9F\x98\x80\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
        "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7 \xE2\x82\xAC", "\xE4\xBD\xA0\xE5\xA5\xBD",
        " \xF0\x9F\xA6\x80 \xF0\x9F\xA7\xAC", "  \t\n x"}) {
    for (int32_t id : tok.Encode(text, false).ids) ids.push_back(id);
  }
  return ids;
}

TEST_P(FamilyTest, RandomStreamsConcatenateToDecode) {
  const std::vector<int32_t> interesting = InterestingIds(*tok_, Golden("decode_single.jsonl"));
  ASSERT_GT(interesting.size(), 10u);
  std::mt19937 rng(42);
  const auto random_ids = [&] {
    std::vector<int32_t> ids(std::uniform_int_distribution<int>(0, 20)(rng));
    for (int32_t& id : ids) {
      id = rng() % 3 == 0 ? static_cast<int32_t>(rng() % tok_->vocab_size())
                          : interesting[rng() % interesting.size()];
    }
    return ids;
  };
  int prompt_checked = 0;
  for (int iter = 0; iter < 2000; ++iter) {
    const std::vector<int32_t> ids = random_ids();
    const std::vector<int32_t> prompt = random_ids();
    std::vector<int32_t> all = prompt;
    all.insert(all.end(), ids.begin(), ids.end());
    for (bool skip : {false, true}) {
      const FamilyStream s = StreamFamily(*tok_, ids, skip);
      ASSERT_EQ(s.text, tok_->Decode(ids, skip)) << "iter " << iter << " skip " << skip;
      ASSERT_TRUE(s.pieces_valid) << "iter " << iter;
      ASSERT_TRUE(s.special_flags_right) << "iter " << iter;

      const FamilyStream sp = StreamFamily(*tok_, ids, skip, &prompt);
      ASSERT_TRUE(sp.pieces_valid) << "iter " << iter;
      const std::string before = tok_->Decode(prompt, skip), after = tok_->Decode(all, skip);
      if (before.ends_with(kReplacement) || !after.starts_with(before)) continue;
      ASSERT_EQ(sp.text, after.substr(before.size())) << "iter " << iter << " skip " << skip;
      ++prompt_checked;
    }
  }
  EXPECT_GT(prompt_checked, 1000);
}

// A GGUF vocabulary goes through the same pipeline: llama-spm holds llama2's pieces id for id.
TEST(GgufFamilyTest, LlamaSpmGgufStreamsLlama2Goldens) {
  StatusOr<std::unique_ptr<Tokenizer>> tok =
      Tokenizer::Load(test::kRefdataDir + "/gguf-vocab/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const std::vector<nlohmann::json> rows =
      ReadJsonl(test::kRefdataDir + "/golden/tokenize/llama2/tokenize.jsonl");
  ASSERT_GT(rows.size(), 200u);
  for (const nlohmann::json& row : rows) {
    const std::vector<int32_t> ids = row["ids_special"].get<std::vector<int32_t>>();
    EXPECT_EQ(StreamFamily(**tok, ids, false).text, row["text"].get<std::string>())
        << "row " << row["id"];
    EXPECT_EQ(StreamFamily(**tok, ids, true).text, row["text_skip"].get<std::string>())
        << "row " << row["id"];
  }
}

INSTANTIATE_TEST_SUITE_P(Refdata, FamilyTest,
                         ::testing::Values("llama2", "mistral", "gpt2", "llama3", "qwen3"));

}  // namespace
}  // namespace sg
