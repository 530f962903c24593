// LoadChatTemplateSource: every place a chat template can come from, in precedence order, and
// the special-token strings beside it (strings or AddedToken dicts).
#include "engine/text/chat_template_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/io/gguf.h"

namespace sg {
namespace {

namespace fs = std::filesystem;

class ChatTemplateSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sg_chat_src_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  ChatTemplateSource Load(const std::string& override_file = "") {
    auto s = LoadChatTemplateSource(dir_.string(), override_file);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? *s : ChatTemplateSource{};
  }
  fs::path dir_;
};

TEST_F(ChatTemplateSourceTest, StringInTokenizerConfig) {
  Write("tokenizer_config.json",
        R"({"chat_template":"T","bos_token":"<s>","eos_token":{"content":"</s>","lstrip":false},)"
        R"("unk_token":null,"pad_token":"<pad>"})");
  ChatTemplateSource s = Load();
  EXPECT_EQ(s.default_template, "T");
  EXPECT_EQ(s.tool_use_template, "");
  EXPECT_EQ(s.origin, (dir_ / "tokenizer_config.json").string());
  EXPECT_EQ(s.bos_token, "<s>");
  EXPECT_EQ(s.eos_token, "</s>");  // AddedToken dict -> its content
  EXPECT_FALSE(s.unk_token);
  EXPECT_EQ(s.pad_token, "<pad>");
}

TEST_F(ChatTemplateSourceTest, NamedListDefaultAndToolUse) {
  Write("tokenizer_config.json",
        R"({"chat_template":[{"name":"tool_use","template":"U"},{"name":"rag","template":"R"},)"
        R"({"name":"default","template":"D"}]})");
  ChatTemplateSource s = Load();
  EXPECT_EQ(s.default_template, "D");
  EXPECT_EQ(s.tool_use_template, "U");
  // No "default" entry: no default template (transformers refuses to pick one).
  Write("tokenizer_config.json", R"({"chat_template":[{"name":"rag","template":"R"}]})");
  EXPECT_EQ(Load().default_template, "");
}

TEST_F(ChatTemplateSourceTest, Precedence) {
  Write("tokenizer_config.json", R"({"chat_template":"config","bos_token":"<s>"})");
  Write("processor_config.json", R"({"chat_template":"processor"})");
  EXPECT_EQ(Load().default_template, "config");
  Write("chat_template.json", R"({"chat_template":"json"})");
  EXPECT_EQ(Load().default_template, "json");  // TGI reads chat_template.json first
  Write("chat_template.jinja", "jinja");
  ChatTemplateSource s = Load();
  EXPECT_EQ(s.default_template, "jinja");  // transformers: the .jinja file clobbers the config
  EXPECT_EQ(s.bos_token, "<s>");           // tokens still come from tokenizer_config.json
  Write("flag.jinja", "flag");
  s = Load((dir_ / "flag.jinja").string());
  EXPECT_EQ(s.default_template, "flag");  // --chat-template overrides all
  EXPECT_EQ(s.origin, "--chat-template " + (dir_ / "flag.jinja").string());
  EXPECT_EQ(s.bos_token, "<s>");
}

TEST_F(ChatTemplateSourceTest, ProcessorConfigIsTheLastResort) {
  Write("processor_config.json", R"({"chat_template":"processor"})");
  EXPECT_EQ(Load().default_template, "processor");
}

TEST_F(ChatTemplateSourceTest, MissingTemplateAndErrors) {
  ChatTemplateSource s = Load();  // an empty folder: no template, no tokens, no error
  EXPECT_EQ(s.default_template, "");
  EXPECT_FALSE(s.bos_token);
  Write("tokenizer_config.json", "{not json");
  EXPECT_EQ(LoadChatTemplateSource(dir_.string(), "").status().code(),
            StatusCode::kInvalidArgument);
  Write("tokenizer_config.json", "{}");
  auto missing = LoadChatTemplateSource(dir_.string(), (dir_ / "nope.jinja").string());
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("nope.jinja"), std::string::npos);
}

TEST_F(ChatTemplateSourceTest, GgufKeyAndFlagOverride) {
  const std::string vocab = STREAMGEN_SHARED_DIR "/refdata/gguf-vocab/ggml-vocab-llama-spm.gguf";
  auto f = GgufFile::Open(vocab);
  ASSERT_TRUE(f.ok()) << f.status().message();
  GgufWriter w;
  for (const GgufKeyValue& kv : (*f)->metadata()) {
    if (kv.key != "tokenizer.chat_template") w.AddValue(kv.key, kv.value);
  }
  const std::string plain = (dir_ / "plain.gguf").string();
  ASSERT_TRUE(w.Write(plain).ok());
  auto s = LoadChatTemplateSource(plain, "");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->default_template, "");
  EXPECT_EQ(s->bos_token, "<s>");
  EXPECT_EQ(s->eos_token, "</s>");

  w.AddString("tokenizer.chat_template", "{{ bos_token }}G");
  const std::string with = (dir_ / "with.gguf").string();
  ASSERT_TRUE(w.Write(with).ok());
  s = LoadChatTemplateSource(with, "");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->default_template, "{{ bos_token }}G");
  EXPECT_EQ(s->origin, "GGUF tokenizer.chat_template");
  Write("flag.jinja", "flag");
  s = LoadChatTemplateSource(with, (dir_ / "flag.jinja").string());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->default_template, "flag");
}

TEST(ChatTemplateValue, StringListOrNeither) {
  ChatTemplateSource s;
  EXPECT_TRUE(ReadChatTemplateValue("x", &s));
  EXPECT_EQ(s.default_template, "x");
  EXPECT_FALSE(ReadChatTemplateValue(5, &s));
  EXPECT_TRUE(ReadChatTemplateValue(nlohmann::json::parse(R"([{"name":"default"}])"), &s));
  EXPECT_EQ(s.default_template, "");  // an entry without a template is skipped
}

}  // namespace
}  // namespace sg
