// End to end: a GGUF vocabulary translated by TokenizerJsonFromGguf and run through the one
// Tokenizer implementation encodes exactly like Hugging Face (goldens from AutoTokenizer, which
// agree id for id with llama.cpp's .out files), and like the matching real tokenizer.json on the
// shared test strings.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/mapped_file.h"
#include "engine/text/gguf_vocab.h"
#include "engine/text/tokenizer.h"
#include "support/test_data.h"

namespace sg {
namespace {

using json = nlohmann::json;

std::vector<json> ReadJsonLines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << path;
    out.push_back(std::move(j));
  }
  return out;
}

std::unique_ptr<Tokenizer> FromGguf(const std::string& name) {
  auto gguf = GgufFile::Open(test::kRefdataDir + "/gguf-vocab/ggml-vocab-" + name + ".gguf");
  EXPECT_TRUE(gguf.ok()) << gguf.status().message();
  if (!gguf.ok()) return nullptr;
  auto pair = TokenizerJsonFromGguf(*gguf.value());
  EXPECT_TRUE(pair.ok()) << pair.status().message();
  if (!pair.ok()) return nullptr;
  auto tok = Tokenizer::FromJson(pair.value().tokenizer, pair.value().config);
  EXPECT_TRUE(tok.ok()) << tok.status().message();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

class GgufVocabGoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(GgufVocabGoldenTest, EncodesLikeHuggingFace) {
  const std::string name = GetParam();
  std::unique_ptr<Tokenizer> tok = FromGguf(name);
  ASSERT_NE(tok, nullptr);
  const auto rows =
      ReadJsonLines(test::kRefdataDir + "/golden/gguf-vocab/ggml-vocab-" + name + ".jsonl");
  ASSERT_FALSE(rows.empty());
  int agree = 0;
  for (const json& row : rows) {
    const std::string text = row["text"].get<std::string>();
    const auto expected = row["ids"].get<std::vector<int32_t>>();
    const std::vector<int32_t> ids = tok->Encode(text, /*add_special_tokens=*/false).ids;
    if (ids == expected) ++agree;
    EXPECT_EQ(ids, expected) << name << " row " << row["i"] << ": " << json(text).dump();
  }
  std::printf("[ info ] %s: %d/%zu agree\n", name.c_str(), agree, rows.size());
}

INSTANTIATE_TEST_SUITE_P(AllFiles, GgufVocabGoldenTest,
                         testing::Values("llama-spm", "llama-bpe", "gpt-2", "qwen2", "phi-3",
                                         "deepseek-coder"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string s = info.param;
                           for (char& c : s) {
                             if (c == '-') c = '_';
                           }
                           return s;
                         });

// Tokenizer::Load takes a GGUF path and goes through the same translation.
TEST(GgufVocabLoadTest, LoadFromGgufPathMatchesTranslation) {
  auto tok = Tokenizer::Load(test::kRefdataDir + "/gguf-vocab/ggml-vocab-qwen2.gguf");
  ASSERT_TRUE(tok.ok()) << tok.status().message();
  EXPECT_EQ(tok.value()->Encode("Hello world", false).ids, (std::vector<int32_t>{9707, 1879}));
  EXPECT_EQ(tok.value()->settings().eos_token_id, 151643);
  EXPECT_TRUE(tok.value()->IsSpecial(151644));   // <|im_start|>: control
  EXPECT_FALSE(tok.value()->IsSpecial(151646));  // [PAD151646]: user-defined
  EXPECT_FALSE(tok.value()->settings().chat_template.empty());
  EXPECT_EQ(tok.value()->vocab_size(), 151936);
}

// Every tokenizer.ggml.pre of the table yields a pre-tokenizer the Tokenizer accepts (each regex
// compiles) and that loses no byte: with a bytes-only vocabulary, decode(encode(x)) == x.
TEST(GgufVocabLoadTest, EveryKnownPreTokenizerCompilesAndRoundTrips) {
  auto gpt2 = GgufFile::Open(test::kRefdataDir + "/gguf-vocab/ggml-vocab-gpt-2.gguf");
  ASSERT_TRUE(gpt2.ok()) << gpt2.status().message();
  const GgufArray* all = gpt2.value()->Find("tokenizer.ggml.tokens")->AsArray();
  ASSERT_NE(all, nullptr);
  std::vector<std::string> bytes;  // GPT-2's first 256 tokens are the 256 byte symbols
  for (int i = 0; i < 256; ++i) bytes.push_back(*all->items[i].AsString());
  const std::string text =
      "Hello, y'all! How's it going?\n\n  3333 tabs\there 🦙.cpp «ünïcödé» "
      "我想在apple工作 "
      "Ωμέγα <|im_start|> x\r\n   ";
  for (const char* pre : {"",          "default",        "llama-bpe",    "llama3",
                          "dbrx",      "smaug-bpe",      "chatglm-bpe",  "qwen2",
                          "stablelm2", "gpt-2",          "olmo",         "starcoder",
                          "command-r", "deepseek-coder", "deepseek-llm", "deepseek-v3",
                          "falcon",    "bloom",          "viking",       "tekken",
                          "gpt-4o"}) {
    GgufWriter w;
    w.AddString("tokenizer.ggml.model", "gpt2");
    w.AddString("tokenizer.ggml.pre", pre);
    w.AddStringArray("tokenizer.ggml.tokens", bytes);
    std::vector<uint8_t> file = w.ToBytes();
    auto gguf = GgufFile::Parse(MappedFile::FromBytes("vocab.gguf", file.data(), file.size()));
    ASSERT_TRUE(gguf.ok()) << gguf.status().message();
    auto pair = TokenizerJsonFromGguf(*gguf.value());
    ASSERT_TRUE(pair.ok()) << pre << ": " << pair.status().message();
    auto tok = Tokenizer::FromJson(pair.value().tokenizer, pair.value().config);
    ASSERT_TRUE(tok.ok()) << pre << ": " << tok.status().message();
    const std::vector<int32_t> ids = tok.value()->Encode(text, false).ids;
    EXPECT_EQ(ids.size(), text.size()) << pre;  // one byte token per byte
    EXPECT_EQ(tok.value()->Decode(ids, false), text) << pre;
  }
}

struct Pairing {
  const char* gguf;
  const char* family;
  int32_t first_missing_id;  // golden rows using ids from here on are not in the GGUF
  int32_t added_bos;         // BOS llama.cpp adds but the reference tokenizer.json does not, or -1
};

class GgufVsTokenizerJsonTest : public testing::TestWithParam<Pairing> {};

TEST_P(GgufVsTokenizerJsonTest, SameIdsAndTextOnTestStrings) {
  const Pairing p = GetParam();
  std::unique_ptr<Tokenizer> tok = FromGguf(p.gguf);
  ASSERT_NE(tok, nullptr);
  const auto strings = ReadJsonLines(test::kRefdataDir + "/golden/test_strings.jsonl");
  const auto golden = ReadJsonLines(test::kRefdataDir + "/golden/tokenize/" +
                                    std::string(p.family) + "/tokenize.jsonl");
  ASSERT_EQ(strings.size(), golden.size());
  int checked = 0;
  int agree = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    auto ids = golden[i]["ids"].get<std::vector<int32_t>>();
    auto ids_special = golden[i]["ids_special"].get<std::vector<int32_t>>();
    bool in_vocab = true;
    for (int32_t id : ids_special) in_vocab = in_vocab && id < p.first_missing_id;
    if (!in_vocab) continue;
    ++checked;
    const std::string text = strings[i]["text"].get<std::string>();
    if (p.added_bos >= 0) ids_special.insert(ids_special.begin(), p.added_bos);
    const auto got = tok->Encode(text, false).ids;
    const auto got_special = tok->Encode(text, true).ids;
    const std::string decoded = tok->Decode(ids_special, /*skip_special_tokens=*/false);
    const std::string expected_text = golden[i]["text"].get<std::string>();
    // With an extra BOS, HF's decode text starts with that token's content.
    const std::string bos_text =
        p.added_bos >= 0 ? std::string(tok->IdToPiece(p.added_bos)) : std::string();
    const bool ok = got == ids && got_special == ids_special && decoded == bos_text + expected_text;
    if (ok) ++agree;
    EXPECT_EQ(got, ids) << p.gguf << " string " << i << ": " << json(text).dump();
    EXPECT_EQ(got_special, ids_special) << p.gguf << " string " << i;
    EXPECT_EQ(decoded, bos_text + expected_text) << p.gguf << " string " << i;
  }
  EXPECT_GE(checked, 230);
  std::printf("[ info ] %s vs %s: %d/%d agree\n", p.gguf, p.family, agree, checked);
}

INSTANTIATE_TEST_SUITE_P(Families, GgufVsTokenizerJsonTest,
                         testing::Values(Pairing{"llama-spm", "llama2", INT32_MAX, -1},
                                         Pairing{"gpt-2", "gpt2", INT32_MAX, -1},
                                         // llama.cpp adds <|begin_of_text|> for the llama3 family.
                                         Pairing{"llama-bpe", "llama3", INT32_MAX, 128000},
                                         Pairing{"qwen2", "qwen3", 151646, -1}),
                         [](const testing::TestParamInfo<Pairing>& info) {
                           return std::string(info.param.family);
                         });

}  // namespace
}  // namespace sg
