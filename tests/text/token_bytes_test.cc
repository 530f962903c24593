// TokenByteStrings on the real tokenizers of five families and the demo model: the bytes of the
// ids Hugging Face produced for every golden test string concatenate to HF's decoded text (plus
// the one leading space SentencePiece's Strip decoder removes), HF's single-id decodes agree, our
// own Encode round-trips ASCII, multi-byte UTF-8, emoji and JSON, control tokens are empty, and a
// WordPiece tokenizer (not expressible as per-token bytes) is refused.
#include "engine/text/token_bytes.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"
#include "engine/text/utf8.h"
#include "support/test_data.h"

namespace sg {
namespace token_bytes_test {
namespace {

struct Family {
  std::string name;
  std::string path;    // tokenizer folder or file
  bool leading_space;  // the normalizer prepends "▁" (bytes = " " + text)
};

std::vector<Family> Families() {
  const std::string tok = test::kRefdataDir + "/tokenizers/";
  return {{"llama2", tok + "llama2", true},
          {"mistral", tok + "mistral", true},
          {"gpt2", tok + "gpt2", false},
          {"llama3", tok + "llama3", false},
          {"qwen3", tok + "qwen3", false},
          {"demo", STREAMGEN_SOURCE_DIR "/models/demo/hf", false},
          {"demo_gguf", STREAMGEN_SOURCE_DIR "/models/demo/shakespeare-q8_0.gguf", false}};
}

std::vector<nlohmann::json> ReadRows(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return rows;
}

std::string Concat(const std::vector<std::string>& bytes, const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += bytes.at(static_cast<size_t>(id));
  return out;
}

// Texts a constraint typically spells: ASCII, 2-, 3- and 4-byte UTF-8 (NFC, so normalizers leave
// them alone), ZWJ emoji, JSON with escapes, digits, whitespace runs.
const char* const kTexts[] = {
    "Hello, world!",
    "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 3}}",
    "[1, 2.5e-3, -17, true, false, null]",
    "{\"s\":\"line\\nbreak \\\"quoted\\\" \\u00e9\"}",
    "caf\xC3\xA9 na\xC3\xAFve \xC3\xBC\xC3\x9F",
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE6\x96\x87\xE7\xAB\xA0",
    "\xF0\x9F\x98\x80\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 ok",
    "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7 flag",
    "0123456789 42 1000000",
    "tabs\tand\nnewlines\n\n  two spaces",
    "a",
    "2024-07-26T12:34:56Z 550e8400-e29b-41d4-a716-446655440000",
    "x@example.com (\xCE\xB1\xCE\xB2\xCE\xB3) \xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",
};

class TokenBytesTest : public testing::TestWithParam<Family> {
 protected:
  void SetUp() override {
    auto tok = Tokenizer::Load(GetParam().path);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    tok_ = std::move(tok).value();
    bytes_ = TokenByteStrings(*tok_);
    ASSERT_EQ(bytes_.size(), static_cast<size_t>(tok_->vocab_size()));
  }
  std::string Prefix() const { return GetParam().leading_space ? " " : ""; }

  std::unique_ptr<Tokenizer> tok_;
  std::vector<std::string> bytes_;
};

TEST_P(TokenBytesTest, OwnEncodeRoundTrips) {
  for (const char* text : kTexts) {
    const Encoding enc = tok_->Encode(text, /*add_special_tokens=*/false);
    EXPECT_EQ(Concat(bytes_, enc.ids), Prefix() + text) << GetParam().name << ": " << text;
  }
}

// HF's ids for the 236 golden strings (emoji, CJK, combining marks, control characters, special
// token literals, ...) concatenate to HF's decode with special tokens skipped.
TEST_P(TokenBytesTest, MatchesHfGoldenDecodes) {
  if (GetParam().name.starts_with("demo")) GTEST_SKIP() << "no goldens for the demo tokenizer";
  const auto rows =
      ReadRows(test::kRefdataDir + "/golden/tokenize/" + GetParam().name + "/tokenize.jsonl");
  ASSERT_GT(rows.size(), 200u);
  int failures = 0;
  for (const auto& row : rows) {
    const auto ids = row["ids"].get<std::vector<int32_t>>();
    const std::string concat = Concat(bytes_, ids);
    const std::string want = row["text_skip"].get<std::string>();
    const std::string prefix = concat.empty() ? "" : Prefix();
    if (concat != prefix + want && failures++ < 10) {
      ADD_FAILURE() << GetParam().name << " id " << row["id"] << ": got [" << concat << "] want ["
                    << prefix + want << "]";
    }
  }
}

// HF's decode of each id alone: our bytes, lossy as UTF-8 (a partial sequence is U+FFFD), with the
// first leading space dropped where the Strip decoder drops it; special ids have no bytes.
TEST_P(TokenBytesTest, MatchesHfSingleIdDecodes) {
  if (GetParam().name.starts_with("demo")) GTEST_SKIP() << "no goldens for the demo tokenizer";
  const auto rows =
      ReadRows(test::kRefdataDir + "/golden/tokenize/" + GetParam().name + "/decode_single.jsonl");
  ASSERT_GT(rows.size(), 500u);
  int failures = 0;
  for (const auto& row : rows) {
    const int32_t id = row["id"].get<int32_t>();
    if (tok_->IsSpecial(id)) {
      EXPECT_EQ(bytes_[id], "") << id;
      continue;
    }
    std::string got = utf8::Lossy(bytes_[id]);
    if (GetParam().leading_space && got.starts_with(' ')) got.erase(0, 1);
    if (got != row["text"].get<std::string>() && failures++ < 10) {
      ADD_FAILURE() << GetParam().name << " id " << id << " piece " << row["piece"] << ": got ["
                    << got << "]";
    }
  }
}

TEST_P(TokenBytesTest, ControlTokensAreEmpty) {
  const TokenizerSettings& s = tok_->settings();
  int specials = 0;
  for (int32_t id = 0; id < tok_->vocab_size(); ++id) {
    if (tok_->IsSpecial(id)) {
      ++specials;
      EXPECT_EQ(bytes_[id], "") << id;
    }
  }
  EXPECT_GT(specials, 0);
  for (const auto& id : {s.bos_token_id, s.eos_token_id, s.unk_token_id}) {
    if (id) {
      EXPECT_EQ(bytes_[*id], "") << *id;
    }
  }
  // Nearly every other token has bytes (a blanked token would be one the decoder contradicts).
  int64_t empty = 0;
  for (const auto& b : bytes_) empty += b.empty();
  EXPECT_LE(empty - specials, 4) << GetParam().name;
}

// Every single byte is spellable by some token: the property that lets a budget-aware constraint
// always finish (byte fallback / byte-level vocabularies).
TEST_P(TokenBytesTest, EveryByteHasAToken) {
  std::vector<bool> seen(256, false);
  for (const auto& b : bytes_) {
    if (b.size() == 1) seen[static_cast<unsigned char>(b[0])] = true;
  }
  for (int b = 0; b < 256; ++b) EXPECT_TRUE(seen[b]) << GetParam().name << " byte " << b;
}

INSTANTIATE_TEST_SUITE_P(Families, TokenBytesTest, testing::ValuesIn(Families()),
                         [](const testing::TestParamInfo<Family>& info) {
                           return info.param.name;
                         });

TEST(TokenBytes, KnownPieces) {
  auto llama = Tokenizer::Load(test::kRefdataDir + "/tokenizers/llama2");
  ASSERT_TRUE(llama.ok());
  const auto lb = TokenByteStrings(**llama);
  ASSERT_EQ(lb.size(), 32000u);
  EXPECT_EQ(lb[*(*llama)->PieceToId("<0x0A>")], "\n");
  EXPECT_EQ(lb[*(*llama)->PieceToId("<0xE2>")], "\xE2");
  EXPECT_EQ(lb[*(*llama)->PieceToId("\xE2\x96\x81the")], " the");
  auto qwen = Tokenizer::Load(test::kRefdataDir + "/tokenizers/qwen3");
  ASSERT_TRUE(qwen.ok());
  const auto qb = TokenByteStrings(**qwen);
  ASSERT_EQ(qb.size(), 151669u);
  EXPECT_EQ(qb[*(*qwen)->PieceToId("\xC4\x8A")], "\n");       // "Ċ"
  EXPECT_EQ(qb[*(*qwen)->PieceToId("\xC4\xA0the")], " the");  // "Ġthe"
  EXPECT_EQ(qb[*(*qwen)->PieceToId("<think>")], "<think>");   // added, not special
  EXPECT_EQ(qb[*(*qwen)->PieceToId("<|im_end|>")], "");       // special
}

// WordPiece inserts a space before every token that lacks "##": not a per-token byte string.
TEST(TokenBytes, RefusesWordPiece) {
  const auto j = nlohmann::json::parse(R"({
    "version": "1.0", "added_tokens": [], "normalizer": null,
    "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": null,
    "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100,
              "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4, "##b": 5, ".": 6,
                        "b": 7, "c": 8}}})");
  auto tok = Tokenizer::FromJson(j, nlohmann::json());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_TRUE(TokenByteStrings(**tok).empty());
}

// A Metaspace decoder (Unigram-style models) strips the first token's "▁" only: in the middle of
// a stream every "▁" is a space.
TEST(TokenBytes, MetaspaceDecoder) {
  const auto j = nlohmann::json::parse(R"({
    "version": "1.0", "added_tokens": [], "normalizer": null, "post_processor": null,
    "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                      "split": true},
    "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always",
                "split": true},
    "model": {"type": "WordLevel", "unk_token": "[UNK]",
              "vocab": {"[UNK]": 0, "\u2581hello": 1, "\u2581world": 2, "a": 3, "b": 4}}})");
  auto tok = Tokenizer::FromJson(j, nlohmann::json());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  const auto bytes = TokenByteStrings(**tok);
  ASSERT_EQ(bytes.size(), 5u);
  EXPECT_EQ(bytes[1], " hello");
  EXPECT_EQ(bytes[3], "a");
  EXPECT_EQ(Concat(bytes, (*tok)->Encode("hello world", false).ids), " hello world");
}

// BPEDecoder turns the end-of-word suffix into a space except after the last token: context, not
// per-token bytes.
TEST(TokenBytes, RefusesBpeSuffixDecoder) {
  const auto j = nlohmann::json::parse(R"({
    "version": "1.0", "added_tokens": [], "normalizer": null, "post_processor": null,
    "pre_tokenizer": null, "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
    "model": {"type": "WordLevel", "unk_token": "[UNK]",
              "vocab": {"[UNK]": 0, "a": 1, "b</w>": 2, "c</w>": 3, "d</w>": 4}}})");
  auto tok = Tokenizer::FromJson(j, nlohmann::json());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_TRUE(TokenByteStrings(**tok).empty());
}

// The demo model's GGUF vocabulary and its tokenizer.json give the same bytes.
TEST(TokenBytes, DemoGgufMatchesTokenizerJson) {
  auto hf = Tokenizer::Load(STREAMGEN_SOURCE_DIR "/models/demo/hf");
  auto gguf = Tokenizer::Load(STREAMGEN_SOURCE_DIR "/models/demo/shakespeare-q8_0.gguf");
  ASSERT_TRUE(hf.ok() && gguf.ok());
  const auto a = TokenByteStrings(**hf);
  EXPECT_EQ(a.size(), 2048u);
  EXPECT_EQ(a, TokenByteStrings(**gguf));
}

}  // namespace
}  // namespace token_bytes_test
}  // namespace sg
