// TokenizerJsonFromGguf: the JSON it builds from the real llama.cpp vocabulary GGUFs is compared
// section by section with the real tokenizer.json files of the same vocabularies, and malformed
// vocabularies come back as errors.
#include "engine/text/gguf_vocab.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "engine/core/mapped_file.h"
#include "support/test_data.h"

namespace sg {
namespace {

using json = nlohmann::json;

std::unique_ptr<GgufFile> OpenVocab(const std::string& name) {
  auto f = GgufFile::Open(test::kRefdataDir + "/gguf-vocab/ggml-vocab-" + name + ".gguf");
  EXPECT_TRUE(f.ok()) << f.status().message();
  return f.ok() ? std::move(f).value() : nullptr;
}

TokenizerJsonPair Translate(const std::string& name) {
  auto gguf = OpenVocab(name);
  if (gguf == nullptr) return {};
  auto start = std::chrono::steady_clock::now();
  auto pair = TokenizerJsonFromGguf(*gguf);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("[ info ] %s translated in %.1f ms\n", name.c_str(), ms.count());
  EXPECT_TRUE(pair.ok()) << pair.status().message();
  return pair.ok() ? std::move(pair).value() : TokenizerJsonPair{};
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  json j = json::parse(in, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << path;
  return j;
}

json RefTokenizer(const std::string& family) {
  return ReadJson(test::kRefdataDir + "/tokenizers/" + family + "/tokenizer.json");
}

// Merges as "a b" strings whether stored as strings or as pairs.
std::vector<std::string> MergeStrings(const json& merges) {
  std::vector<std::string> out;
  for (const json& m : merges) {
    if (m.is_string()) {
      out.push_back(m.get<std::string>());
    } else {
      out.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    }
  }
  return out;
}

// The added-token entries that matter for encoding, by id.
std::map<int, std::pair<std::string, bool>> AddedById(const json& added) {
  std::map<int, std::pair<std::string, bool>> out;
  for (const json& a : added) out[a["id"].get<int>()] = {a["content"], a["special"].get<bool>()};
  return out;
}

TEST(GgufVocabTest, LlamaSpmMatchesLlama2TokenizerJson) {
  TokenizerJsonPair p = Translate("llama-spm");
  json ref = RefTokenizer("llama2");
  EXPECT_EQ(p.tokenizer["normalizer"], ref["normalizer"]);
  EXPECT_EQ(p.tokenizer["pre_tokenizer"], ref["pre_tokenizer"]);
  EXPECT_EQ(p.tokenizer["decoder"], ref["decoder"]);
  EXPECT_EQ(p.tokenizer["post_processor"], ref["post_processor"]);
  const json& m = p.tokenizer["model"];
  EXPECT_EQ(m["type"], "BPE");
  EXPECT_EQ(m["byte_fallback"], true);
  EXPECT_EQ(m["fuse_unk"], true);
  EXPECT_EQ(m["unk_token"], "<unk>");
  EXPECT_EQ(m["vocab"], ref["model"]["vocab"]);
  // Merges derived from the scores come out in exactly the converter's order.
  EXPECT_EQ(MergeStrings(m["merges"]), MergeStrings(ref["model"]["merges"]));
  EXPECT_EQ(AddedById(p.tokenizer["added_tokens"]), AddedById(ref["added_tokens"]));
  EXPECT_EQ(p.config["add_bos_token"], true);
  EXPECT_EQ(p.config["add_eos_token"], false);
  EXPECT_EQ(p.config["bos_token"], "<s>");
  EXPECT_EQ(p.config["eos_token"], "</s>");
  EXPECT_EQ(p.config["unk_token"], "<unk>");
}

TEST(GgufVocabTest, Gpt2MatchesGpt2TokenizerJson) {
  TokenizerJsonPair p = Translate("gpt-2");
  json ref = RefTokenizer("gpt2");
  EXPECT_EQ(p.tokenizer["pre_tokenizer"], ref["pre_tokenizer"]);
  EXPECT_EQ(p.tokenizer["decoder"], ref["decoder"]);
  EXPECT_EQ(p.tokenizer["post_processor"], ref["post_processor"]);
  EXPECT_TRUE(p.tokenizer["normalizer"].is_null());
  const json& m = p.tokenizer["model"];
  EXPECT_EQ(m["byte_fallback"], false);
  EXPECT_EQ(m["ignore_merges"], false);
  // <|endoftext|> is an added (control) token, kept out of the model's vocabulary.
  json ref_vocab = ref["model"]["vocab"];
  ref_vocab.erase("<|endoftext|>");
  EXPECT_EQ(m["vocab"], ref_vocab);
  EXPECT_EQ(MergeStrings(m["merges"]), MergeStrings(ref["model"]["merges"]));
  EXPECT_EQ(AddedById(p.tokenizer["added_tokens"]), AddedById(ref["added_tokens"]));
  EXPECT_EQ(p.config["add_bos_token"], false);
  EXPECT_EQ(p.config["clean_up_tokenization_spaces"], true);
}

TEST(GgufVocabTest, LlamaBpeMatchesLlama3TokenizerJson) {
  TokenizerJsonPair p = Translate("llama-bpe");
  json ref = RefTokenizer("llama3");
  EXPECT_EQ(p.tokenizer["pre_tokenizer"], ref["pre_tokenizer"]);
  EXPECT_EQ(p.tokenizer["decoder"], ref["decoder"]);
  const json& m = p.tokenizer["model"];
  EXPECT_EQ(m["ignore_merges"], true);
  EXPECT_EQ(m["vocab"], ref["model"]["vocab"]);
  EXPECT_EQ(MergeStrings(m["merges"]), MergeStrings(ref["model"]["merges"]));
  EXPECT_EQ(AddedById(p.tokenizer["added_tokens"]), AddedById(ref["added_tokens"]));
  // llama.cpp adds BOS for the llama3 family (the reference tokenizer.json predates that).
  EXPECT_EQ(p.config["add_bos_token"], true);
  EXPECT_EQ(p.config["bos_token"], "<|begin_of_text|>");
  const json& post = p.tokenizer["post_processor"];
  ASSERT_EQ(post["type"], "Sequence");
  EXPECT_EQ(post["processors"][0], ref["post_processor"]);
  EXPECT_EQ(post["processors"][1]["single"][0]["SpecialToken"]["id"], "<|begin_of_text|>");
  EXPECT_EQ(post["processors"][1]["special_tokens"]["<|begin_of_text|>"]["ids"][0], 128000);
}

TEST(GgufVocabTest, Qwen2MatchesQwen3TokenizerJsonBelowItsAddedTokens) {
  TokenizerJsonPair p = Translate("qwen2");
  json ref = RefTokenizer("qwen3");
  EXPECT_EQ(p.tokenizer["normalizer"], ref["normalizer"]);
  ASSERT_EQ(p.tokenizer["pre_tokenizer"]["type"], "Sequence");
  EXPECT_EQ(p.tokenizer["pre_tokenizer"]["pretokenizers"][0],
            ref["pre_tokenizer"]["pretokenizers"][0]);
  EXPECT_EQ(p.tokenizer["pre_tokenizer"]["pretokenizers"][1]["use_regex"], false);
  const json& m = p.tokenizer["model"];
  EXPECT_EQ(m["vocab"], ref["model"]["vocab"]);
  EXPECT_EQ(MergeStrings(m["merges"]), MergeStrings(ref["model"]["merges"]));
  auto mine = AddedById(p.tokenizer["added_tokens"]);
  auto theirs = AddedById(ref["added_tokens"]);
  for (int id : {151643, 151644, 151645}) EXPECT_EQ(mine[id], theirs[id]) << id;
  EXPECT_EQ(mine[151646], std::make_pair(std::string("[PAD151646]"), false));  // user-defined
  EXPECT_EQ(p.config["add_bos_token"], false);
  EXPECT_EQ(p.config["eos_token"], "<|endoftext|>");
  EXPECT_EQ(p.config["clean_up_tokenization_spaces"], false);
  EXPECT_NE(p.config["chat_template"].get<std::string>().find("<|im_start|>"), std::string::npos);
}

TEST(GgufVocabTest, DeepseekCoderSplitsLikeLlamaCpp) {
  TokenizerJsonPair p = Translate("deepseek-coder");
  const json& pre = p.tokenizer["pre_tokenizer"];
  ASSERT_EQ(pre["type"], "Sequence");
  ASSERT_EQ(pre["pretokenizers"].size(), 6u);  // five Split regexes, then ByteLevel
  EXPECT_EQ(pre["pretokenizers"][4]["pattern"]["Regex"], "\\p{N}");
  EXPECT_EQ(pre["pretokenizers"][5]["type"], "ByteLevel");
  auto added = AddedById(p.tokenizer["added_tokens"]);
  EXPECT_EQ(added[32013], std::make_pair(std::string("<｜begin▁of▁sentence｜>"), true));
  EXPECT_EQ(added[32000], std::make_pair(std::string("õ"), false));
  EXPECT_EQ(p.config["add_bos_token"], true);  // from the file's add_bos_token key
  EXPECT_EQ(p.tokenizer["post_processor"]["processors"][1]["single"][0]["SpecialToken"]["id"],
            "<｜begin▁of▁sentence｜>");
}

TEST(GgufVocabTest, Phi3SpecialTokensStripWhitespaceAfterThem) {
  TokenizerJsonPair p = Translate("phi-3");
  std::map<std::string, json> by_content;
  for (const json& a : p.tokenizer["added_tokens"]) by_content[a["content"]] = a;
  EXPECT_EQ(by_content["<|end|>"]["rstrip"], true);
  EXPECT_EQ(by_content["<|user|>"]["special"], true);
  EXPECT_EQ(by_content["</s>"]["rstrip"], true);
  EXPECT_EQ(by_content["</s>"]["special"], false);  // user-defined in this file
  EXPECT_EQ(by_content["<s>"]["rstrip"], false);
  EXPECT_EQ(by_content["<|endoftext|>"]["rstrip"], false);
  EXPECT_EQ(p.config["eos_token"], "<|endoftext|>");
  EXPECT_EQ(p.config["pad_token"], "<|endoftext|>");
  EXPECT_NE(p.config["chat_template"].get<std::string>().find("<|user|>"), std::string::npos);
  // Same base vocabulary as llama-spm: the same merges.
  TokenizerJsonPair spm = Translate("llama-spm");
  EXPECT_EQ(p.tokenizer["model"]["merges"], spm.tokenizer["model"]["merges"]);
}

// --- malformed vocabularies -------------------------------------------------------------------

StatusOr<TokenizerJsonPair> FromWriter(const GgufWriter& w) {
  std::vector<uint8_t> bytes = w.ToBytes();
  auto gguf = GgufFile::Parse(MappedFile::FromBytes("vocab.gguf", bytes.data(), bytes.size()));
  EXPECT_TRUE(gguf.ok()) << gguf.status().message();
  if (!gguf.ok()) return gguf.status();
  return TokenizerJsonFromGguf(*gguf.value());
}

TEST(GgufVocabTest, MissingModelIsNotFound) {
  GgufWriter w;
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "b"});
  EXPECT_EQ(FromWriter(w).status().code(), StatusCode::kNotFound);
}

TEST(GgufVocabTest, UnknownModelOrPreIsUnimplemented) {
  GgufWriter w;
  w.AddString("tokenizer.ggml.model", "t5");
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "b"});
  EXPECT_EQ(FromWriter(w).status().code(), StatusCode::kUnimplemented);
  GgufWriter w2;
  w2.AddString("tokenizer.ggml.model", "gpt2");
  w2.AddString("tokenizer.ggml.pre", "no-such-pre");
  w2.AddStringArray("tokenizer.ggml.tokens", {"a", "b"});
  EXPECT_EQ(FromWriter(w2).status().code(), StatusCode::kUnimplemented);
}

TEST(GgufVocabTest, BadArraysAreInvalidArgument) {
  GgufWriter w;  // tokens not strings
  w.AddString("tokenizer.ggml.model", "llama");
  w.AddInt32Array("tokenizer.ggml.tokens", {1, 2});
  EXPECT_EQ(FromWriter(w).status().code(), StatusCode::kInvalidArgument);
  GgufWriter w2;  // one score short
  w2.AddString("tokenizer.ggml.model", "llama");
  w2.AddStringArray("tokenizer.ggml.tokens", {"a", "b"});
  w2.AddFloat32Array("tokenizer.ggml.scores", {0.0f});
  EXPECT_EQ(FromWriter(w2).status().code(), StatusCode::kInvalidArgument);
  GgufWriter w3;  // empty vocabulary
  w3.AddString("tokenizer.ggml.model", "gpt2");
  w3.AddStringArray("tokenizer.ggml.tokens", {});
  EXPECT_EQ(FromWriter(w3).status().code(), StatusCode::kInvalidArgument);
}

TEST(GgufVocabTest, TinySpmVocabularyDerivesMergesFromScores) {
  GgufWriter w;
  w.AddString("tokenizer.ggml.model", "llama");
  // "ab" outranks "bc" (higher score); "abc" splits two ways, ordered by the left piece's id.
  w.AddStringArray("tokenizer.ggml.tokens", {"<unk>", "a", "b", "c", "ab", "bc", "abc", "", "é"});
  w.AddFloat32Array("tokenizer.ggml.scores", {0, 0, 0, 0, -1, -2, -3, -4, -5});
  w.AddInt32Array("tokenizer.ggml.token_type", {2, 1, 1, 1, 1, 1, 1, 1, 1});
  w.AddUint32("tokenizer.ggml.bos_token_id", 99);  // out of range: llama.cpp's default id 1 stays
  w.AddBool("tokenizer.ggml.add_space_prefix", false);
  auto p = FromWriter(w);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(MergeStrings(p.value().tokenizer["model"]["merges"]),
            (std::vector<std::string>{"a b", "b c", "a bc", "ab c"}));
  EXPECT_EQ(p.value().tokenizer["normalizer"]["type"], "Replace");  // no Prepend
  EXPECT_EQ(p.value().config["bos_token"], "a");
  EXPECT_EQ(p.value().config["unk_token"], "<unk>");
  EXPECT_EQ(p.value().tokenizer["model"]["unk_token"], "<unk>");
  EXPECT_EQ(p.value().tokenizer["decoder"]["decoders"].size(), 3u);  // no Strip without a prefix
}

TEST(GgufVocabTest, BpeWithoutValidBosAddsNone) {
  GgufWriter w;
  w.AddString("tokenizer.ggml.model", "gpt2");
  w.AddString("tokenizer.ggml.pre", "llama-bpe");  // wants a BOS
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "b", "ab"});
  w.AddStringArray("tokenizer.ggml.merges", {"a b"});
  w.AddUint32("tokenizer.ggml.bos_token_id", 7);  // out of range, and BPE has no default
  auto p = FromWriter(w);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p.value().config["bos_token"].is_null());
  EXPECT_EQ(p.value().tokenizer["post_processor"]["type"], "ByteLevel");
  EXPECT_EQ(p.value().tokenizer["model"]["merges"], json::array({"a b"}));
  EXPECT_EQ(p.value().tokenizer["model"]["ignore_merges"], true);
}

}  // namespace
}  // namespace sg
