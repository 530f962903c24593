// GGUF files written by llama.cpp's own tools (the vocabulary-only files of ../shared/refdata):
// the reader must accept real files, not just those our writer produces.
#include <gtest/gtest.h>

#include <string>

#include "engine/io/gguf.h"

namespace sg {
namespace {

const std::string kVocabDir = std::string(STREAMGEN_SHARED_DIR) + "/refdata/gguf-vocab/";

struct VocabFile {
  const char* name;
  const char* arch;
  const char* tokenizer_model;
  int64_t tokens;
};

class GgufRealFilesTest : public ::testing::TestWithParam<VocabFile> {};

TEST_P(GgufRealFilesTest, ParsesMetadataOfAFileWrittenByLlamaCpp) {
  const VocabFile& f = GetParam();
  auto file = GgufFile::Open(kVocabDir + f.name);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ((*file)->version(), 3u);
  EXPECT_TRUE((*file)->tensors().empty());

  const GgufValue* arch = (*file)->Find("general.architecture");
  ASSERT_NE(arch, nullptr);
  ASSERT_NE(arch->AsString(), nullptr);
  EXPECT_EQ(*arch->AsString(), f.arch);

  const GgufValue* model = (*file)->Find("tokenizer.ggml.model");
  ASSERT_NE(model, nullptr);
  ASSERT_NE(model->AsString(), nullptr);
  EXPECT_EQ(*model->AsString(), f.tokenizer_model);

  const GgufValue* tokens = (*file)->Find("tokenizer.ggml.tokens");
  ASSERT_NE(tokens, nullptr);
  const GgufArray* items = tokens->AsArray();
  ASSERT_NE(items, nullptr);
  EXPECT_EQ(items->elem_type, GgufType::kString);
  EXPECT_EQ(static_cast<int64_t>(items->items.size()), f.tokens);

  const GgufValue* types = (*file)->Find("tokenizer.ggml.token_type");
  ASSERT_NE(types, nullptr);
  ASSERT_NE(types->AsArray(), nullptr);
  EXPECT_EQ(types->AsArray()->items.size(), items->items.size());
}

// Token counts: the vocabulary sizes of the models these files were made from.
INSTANTIATE_TEST_SUITE_P(
    VocabOnly, GgufRealFilesTest,
    ::testing::Values(VocabFile{"ggml-vocab-llama-spm.gguf", "llama", "llama", 32000},
                      VocabFile{"ggml-vocab-llama-bpe.gguf", "llama", "gpt2", 128256},
                      VocabFile{"ggml-vocab-gpt-2.gguf", "gpt2", "gpt2", 50257},
                      VocabFile{"ggml-vocab-qwen2.gguf", "qwen2", "gpt2", 151936},
                      VocabFile{"ggml-vocab-phi-3.gguf", "phi3", "llama", 32064},
                      VocabFile{"ggml-vocab-deepseek-coder.gguf", "llama", "gpt2", 32256}),
    [](const ::testing::TestParamInfo<VocabFile>& info) {
      std::string name = info.param.name;
      name = name.substr(11, name.size() - 16);  // strip "ggml-vocab-" and ".gguf"
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace sg
