// Token offsets (byte ranges into the original text) through normalization, pre-tokenization and
// added tokens: hand-checked cases, and every golden test string of every family against the
// character offsets npm `tokenizers` reported (tokenizer_hf_offsets.jsonl, {fam, id, offsets}).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"
#include "support/test_data.h"

namespace sg {
namespace {

using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;

std::unique_ptr<Tokenizer> Family(const std::string& name) {
  auto tok = Tokenizer::Load(test::kRefdataDir + "/tokenizers/" + name);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

TEST(TokenizerOffsets, ByteLevelWordsMapToOriginalBytes) {
  auto tok = Family("gpt2");
  ASSERT_NE(tok, nullptr);
  Encoding e = tok->Encode("Hello world", false);
  EXPECT_EQ(e.offsets, (Offsets{{0, 5}, {5, 11}}));
  // "é" is two bytes; the byte-level pieces of one word still cover whole original bytes.
  e = tok->Encode("caf\xC3\xA9 ok", false);
  ASSERT_FALSE(e.offsets.empty());
  EXPECT_EQ(e.offsets.front().first, 0u);
  EXPECT_EQ(e.offsets.back(), (std::pair<uint32_t, uint32_t>{5, 8}));  // " ok"
}

TEST(TokenizerOffsets, PrependedMetaspaceAlignsToFirstCharacter) {
  auto tok = Family("llama2");
  ASSERT_NE(tok, nullptr);
  Encoding e = tok->Encode("Hello world", true);
  // BOS from the template gets {0, 0}; "▁Hello" covers "Hello", "▁world" covers " world".
  EXPECT_EQ(e.offsets, (Offsets{{0, 0}, {0, 5}, {5, 11}}));
}

TEST(TokenizerOffsets, AddedTokensCoverTheirLiteral) {
  auto tok = Family("qwen3");
  ASSERT_NE(tok, nullptr);
  Encoding e = tok->Encode("a<|im_start|>b", false);
  ASSERT_EQ(e.ids.size(), 3u);
  EXPECT_EQ(e.ids[1], 151644);
  EXPECT_EQ(e.offsets, (Offsets{{0, 1}, {1, 13}, {13, 14}}));
}

// Byte offset -> code point offset in TEXT (npm `tokenizers` reports characters).
uint32_t CharIndex(const std::string& text, uint32_t byte) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < byte && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

TEST(TokenizerOffsets, MatchesHfOnEveryGoldenString) {
  // tokenizer_hf_offsets.mjs writes the reference; STREAMGEN_HF_OFFSETS may point elsewhere.
  const char* env = std::getenv("STREAMGEN_HF_OFFSETS");
  std::string dump = env ? env : STREAMGEN_SOURCE_DIR "/tests/text/tokenizer_hf_offsets.jsonl";
  std::map<int64_t, std::string> texts;
  {
    std::ifstream in(test::kRefdataDir + "/golden/test_strings.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      texts[j["id"].get<int64_t>()] = j["text"].get<std::string>();
    }
  }
  std::map<std::string, std::unique_ptr<Tokenizer>> toks;
  std::map<std::string, std::pair<int, int>> agree;
  std::ifstream in(dump);
  ASSERT_TRUE(in) << dump;
  std::string line;
  int reported = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    std::string fam = j["fam"].get<std::string>();
    if (!toks.count(fam)) toks[fam] = Family(fam);
    const std::string& text = texts[j["id"].get<int64_t>()];
    Encoding e = toks[fam]->Encode(text, true);
    Offsets got;
    for (auto [b, end] : e.offsets) got.emplace_back(CharIndex(text, b), CharIndex(text, end));
    Offsets want;
    for (const auto& o : j["offsets"])
      want.emplace_back(o[0].get<uint32_t>(), o[1].get<uint32_t>());
    bool ok = got == want;
    agree[fam].first += ok;
    agree[fam].second++;
    if (!ok && reported++ < 10) {
      std::string g, w;
      for (auto [a, b] : got) g += std::to_string(a) + "-" + std::to_string(b) + " ";
      for (auto [a, b] : want) w += std::to_string(a) + "-" + std::to_string(b) + " ";
      ADD_FAILURE() << fam << " string " << j["id"] << "\n got  " << g << "\n want " << w;
    }
  }
  for (const auto& [fam, a] : agree) {
    std::printf("[agreement] %s offsets: %d/%d\n", fam.c_str(), a.first, a.second);
  }
  EXPECT_EQ(agree.size(), 5u);
}

}  // namespace
}  // namespace sg
