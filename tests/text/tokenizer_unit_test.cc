// One pipeline component per case on small hand-written tokenizer.json configs, checked against
// what Hugging Face's Rust `tokenizers` (npm) returned for them (tokenizer_unit_cases.json,
// written by tokenizer_unit_cases.mjs): ids, offsets, ids with special tokens, decodes.
// Also settings from tokenizer_config.json, clean-up, and rejection of malformed configs.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"

namespace sg {
namespace {

nlohmann::json Cases() {
  std::ifstream in(STREAMGEN_SOURCE_DIR "/tests/text/tokenizer_unit_cases.json");
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str(), nullptr, false);
}

uint32_t CodePointIndex(const std::string& text, uint32_t byte) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < byte && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

TEST(TokenizerUnit, MatchesHfOnEveryCase) {
  nlohmann::json cases = Cases();
  ASSERT_TRUE(cases.is_array() && cases.size() > 50);
  int checked = 0;
  for (const auto& c : cases) {
    const std::string name = c["name"].get<std::string>();
    auto tok = Tokenizer::FromJson(c["tokenizer"], nlohmann::json());
    ASSERT_TRUE(tok.ok()) << name << ": " << tok.status().ToString();
    for (const auto& in : c["inputs"]) {
      const std::string text = in["text"].get<std::string>();
      Encoding e = (*tok)->Encode(text, false);
      EXPECT_EQ(e.ids, in["ids"].get<std::vector<int32_t>>()) << name << " [" << text << "]";
      std::vector<std::vector<uint32_t>> offsets;
      for (auto [b, end] : e.offsets)
        offsets.push_back({CodePointIndex(text, b), CodePointIndex(text, end)});
      EXPECT_EQ(offsets, in["offsets"].get<std::vector<std::vector<uint32_t>>>())
          << name << " [" << text << "]";
      EXPECT_EQ((*tok)->Encode(text, true).ids, in["ids_special"].get<std::vector<int32_t>>())
          << name << " [" << text << "]";
      ++checked;
    }
    for (const auto& d : c["decodes"]) {
      auto ids = d["ids"].get<std::vector<int32_t>>();
      EXPECT_EQ((*tok)->Decode(ids, false), d["text"].get<std::string>()) << name;
      EXPECT_EQ((*tok)->Decode(ids, true), d["text_skip"].get<std::string>()) << name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
}

nlohmann::json LlamaLike() {
  return nlohmann::json::parse(R"({
    "added_tokens": [
      {"id": 1, "content": "<s>", "special": true, "normalized": false},
      {"id": 2, "content": "</s>", "special": true, "normalized": false}],
    "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": null,
    "model": {"type": "WordLevel", "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3}, "unk_token": "<unk>"}
  })");
}

TEST(TokenizerConfig, AddBosEosOverrideTheTemplate) {
  auto cfg = nlohmann::json::parse(R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>",
      "add_bos_token": false, "add_eos_token": true, "clean_up_tokenization_spaces": true,
      "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  auto tok = Tokenizer::FromJson(LlamaLike(), cfg);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ((*tok)->Encode("a a", true).ids, (std::vector<int32_t>{3, 3, 2}));
  const TokenizerSettings& s = (*tok)->settings();
  EXPECT_EQ(s.bos_token_id, 1);
  EXPECT_EQ(s.eos_token_id, 2);
  EXPECT_TRUE(s.clean_up_tokenization_spaces);
  EXPECT_EQ(s.chat_template, "D");
  // Without the flags the tokenizer.json template (BOS only) stays.
  auto plain = Tokenizer::FromJson(LlamaLike(), nlohmann::json());
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->Encode("a", true).ids, (std::vector<int32_t>{1, 3}));
  EXPECT_TRUE((*plain)->IsSpecial(1));
  EXPECT_FALSE((*plain)->IsSpecial(3));
  EXPECT_EQ((*plain)->PieceToId("a"), 3);
  EXPECT_EQ((*plain)->IdToPiece(2), "</s>");
  EXPECT_EQ((*plain)->IdToPiece(99), "");
  EXPECT_EQ((*plain)->vocab_size(), 4);
}

TEST(TokenizerConfig, CleanUpTokenizationSpaces) {
  EXPECT_EQ(Tokenizer::CleanUpTokenizationSpaces("Hello , world ! I do n't know . it 's 'm ' x"),
            "Hello, world! I don't know. it's'm'x");
  EXPECT_EQ(Tokenizer::CleanUpTokenizationSpaces(" ?? ,"), "??,");
}

TEST(TokenizerConfig, MalformedConfigsAreErrors) {
  auto bad = [](const char* text) {
    return Tokenizer::FromJson(nlohmann::json::parse(text), nlohmann::json()).status().code();
  };
  EXPECT_EQ(bad(R"({"model": {"type": "Nope"}})"), StatusCode::kUnimplemented);
  EXPECT_EQ(bad(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(R"({"model": {"type": "BPE", "vocab": {"a": "x"}, "merges": []}})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(R"({"model": {"type": "WordLevel", "vocab": {}}, "normalizer": {"type": "X"}})"),
            StatusCode::kUnimplemented);
  EXPECT_EQ(bad(R"({"model": {"type": "WordLevel", "vocab": {}},
                    "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "("}}})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(R"({"model": {"type": "WordLevel", "vocab": {}}, "added_tokens": [{"id": "1"}]})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(bad(R"([1, 2])"), StatusCode::kInvalidArgument);
  // A huge id would allocate a huge id -> token table.
  EXPECT_EQ(bad(R"({"model": {"type": "WordLevel", "vocab": {"a": 1000000000}}})"),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Tokenizer::Load("/nonexistent/tokenizer.json").status().code(), StatusCode::kNotFound);
}

TEST(TokenizerConfig, InvalidUtf8InputIsReplacedNotFatal) {
  auto tok = Tokenizer::FromJson(LlamaLike(), nlohmann::json());
  ASSERT_TRUE(tok.ok());
  Encoding e = (*tok)->Encode(std::string("a \xFF\xC3 a"), false);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{3, 0, 3}));
  // Offsets point into the caller's bytes, not the U+FFFD-repaired copy.
  using Offsets = std::vector<std::pair<uint32_t, uint32_t>>;
  EXPECT_EQ(e.offsets, (Offsets{{0, 1}, {2, 4}, {5, 6}}));
  EXPECT_EQ((*tok)->Decode(std::vector<int32_t>{-5, 3, 1000}, false), "a");
}

}  // namespace
}  // namespace sg
