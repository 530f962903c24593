// Golden agreement of the Jinja engine with Python transformers (Jinja2 3.1.6) on the 47 real chat
// templates of refdata/templates, each rendered for every conversation of
// refdata/golden/conversations.json with and without the generation prompt. Python is the
// reference: a row's text_py / error_py when present, else its text (@huggingface/jinja agreed).
// error_kind "template" rows raised in the template itself: we must fail with the same message.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "engine/text/jinja/chat_template.h"
#include "support/test_data.h"

namespace sg {
namespace {

using ojson = nlohmann::ordered_json;

// The special tokens each model's tokenizer gave the template when the goldens were rendered
// (transformers passes them as variables). They are not stored beside the goldens; these were
// read back from the golden texts (Python's Jinja2 with exactly these reproduces all 1974 rows).
// Templates not listed use no special-token variable, or define their own.
const std::map<std::string, std::map<std::string, std::string>>& SpecialTokens() {
  static const auto* kTokens = new std::map<std::string, std::map<std::string, std::string>>{
      {"Apertus-8B-Instruct", {{"bos_token", "<s>"}}},
      {"Apriel-1.6-15b-Thinker-fixed", {{"bos_token", "<s>"}}},
      {"Cohere2MoE", {{"bos_token", "<BOS_TOKEN>"}}},
      {"CohereForAI-c4ai-command-r7b-12-2024-tool_use", {{"bos_token", "<BOS_TOKEN>"}}},
      {"GigaChat3-10B-A1.8B", {{"bos_token", "<s>"}}},
      {"GigaChat3.1-10B-A1.8B", {{"bos_token", "<s>"}}},
      {"LFM2-8B-A1B", {{"bos_token", "<s>"}}},
      {"LFM2.5-8B-A1B", {{"bos_token", "<s>"}}},
      {"Mistral-Small-3.2-24B-Instruct-2506", {{"bos_token", "<s>"}, {"eos_token", "</s>"}}},
      {"NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use", {{"bos_token", "<|begin_of_text|>"}}},
      {"StepFun3.5-Flash", {{"bos_token", "<s>"}}},
      {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B", {{"bos_token", "<｜begin▁of▁sentence｜>"}}},
      {"deepseek-ai-DeepSeek-V3.1", {{"bos_token", "<｜begin▁of▁sentence｜>"}}},
      {"deepseek-ai-DeepSeek-V4-Flash-0731", {{"bos_token", "<｜begin▁of▁sentence｜>"}}},
      {"deepseek-ai-DeepSeek-V4", {{"bos_token", "<｜begin▁of▁sentence｜>"}}},
      {"google-gemma-2-2b-it", {{"bos_token", "<bos>"}}},
      {"google-gemma-4-31B-it-interleaved", {{"bos_token", "<bos>"}}},
      {"llama-cpp-deepseek-r1", {{"bos_token", "<｜begin▁of▁sentence｜>"}}},
      {"meetkai-functionary-medium-v3.1", {{"bos_token", "<|begin_of_text|>"}}},
      {"meetkai-functionary-medium-v3.2", {{"bos_token", "<|begin_of_text|>"}}},
      {"meta-llama-Llama-3.2-3B-Instruct", {{"bos_token", "<|begin_of_text|>"}}},
      {"meta-llama-Llama-3.3-70B-Instruct", {{"bos_token", "<|begin_of_text|>"}}},
      {"mistralai-Ministral-3-14B-Reasoning-2512", {{"bos_token", "<s>"}, {"eos_token", "</s>"}}},
      {"mistralai-Mistral-Nemo-Instruct-2407", {{"bos_token", "<s>"}, {"eos_token", "</s>"}}},
      {"muse-glimmer", {{"bos_token", "<s>"}}},
      {"unsloth-Apriel-1.5", {{"bos_token", "<s>"}, {"eos_token", "</s>"}}},
  };
  return *kTokens;
}

// Rows that cannot match, as "template:conv:add_generation_prompt", each with its reason.
// Keep this list as short as possible.
const std::map<std::string, std::string>& SkipList() {
  static const auto* kSkip = new std::map<std::string, std::string>{};
  return *kSkip;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> TemplateNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(test::kRefdataDir + "/templates", ec)) {
    if (e.path().extension() == ".jinja") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The first differing position of A and B, with context, for failure messages.
std::string Diff(const std::string& got, const std::string& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  const size_t from = i > 60 ? i - 60 : 0;
  return "first difference at byte " + std::to_string(i) +
         "\n got : " + ojson(got.substr(from, 160)).dump() +
         "\n want: " + ojson(want.substr(from, 160)).dump();
}

class ChatTemplateGoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(ChatTemplateGoldenTest, MatchesPython) {
  const std::string name = GetParam();
  const ojson convs =
      ojson::parse(ReadFile(test::kRefdataDir + "/golden/conversations.json"), nullptr, false);
  ASSERT_TRUE(convs.is_object());
  const ojson& fixed = convs["fixed_date"];
  RenderOptions options;
  options.date =
      RenderDate{fixed["year"].get<int>(), fixed["month"].get<int>(), fixed["day"].get<int>()};

  auto tmpl = ChatTemplate::Compile(ReadFile(test::kRefdataDir + "/templates/" + name + ".jinja"));
  ASSERT_TRUE(tmpl.ok()) << tmpl.status().ToString();

  std::ifstream rows(test::kRefdataDir + "/golden/templates/" + name + ".jsonl");
  std::string line;
  int checked = 0;
  while (std::getline(rows, line)) {
    if (line.empty()) continue;
    const ojson row = ojson::parse(line);
    const int conv = row["conv"].get<int>();
    const bool agp = row["add_generation_prompt"].get<bool>();
    const std::string id = name + ":" + std::to_string(conv) + ":" + (agp ? "1" : "0");
    if (SkipList().count(id)) continue;
    const ojson& c = convs["conversations"][static_cast<size_t>(conv)];
    ojson ctx = ojson::object();
    ctx["messages"] = c["messages"];
    ctx["tools"] = c.value("tools", false) ? convs["tools"] : ojson(nullptr);
    ctx["add_generation_prompt"] = agp;
    if (auto it = SpecialTokens().find(name); it != SpecialTokens().end()) {
      for (const auto& [k, v] : it->second) ctx[k] = v;
    }
    const StatusOr<std::string> got = tmpl->Render(ctx, options);
    ++checked;
    if (row.contains("error_py")) {
      const std::string want = row["error_py"].get<std::string>();
      if (got.ok()) {
        ADD_FAILURE() << id << " (" << row["name"] << "): expected the error " << want
                      << ", rendered " << ojson(*got).dump();
        continue;
      }
      // The template's own raise_exception message must match exactly; for other errors the
      // Python exception class and message are matched too, as our errors mirror them.
      const std::string kPrefix = "TemplateError: ";
      const std::string expected = want.rfind(kPrefix, 0) == 0 ? want.substr(kPrefix.size()) : want;
      EXPECT_EQ(got.status().message(), expected) << id << " (" << row["name"] << ")";
      continue;
    }
    std::string want;
    if (row.contains("text_py")) {
      want = row["text_py"].get<std::string>();
    } else if (row.contains("text")) {
      want = row["text"].get<std::string>();
    } else {
      ADD_FAILURE() << id << ": golden row without an expected text or error";
      continue;
    }
    if (!got.ok()) {
      ADD_FAILURE() << id << " (" << row["name"] << "): " << got.status().ToString();
      continue;
    }
    EXPECT_TRUE(*got == want) << id << " (" << row["name"] << "): " << Diff(*got, want);
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Templates, ChatTemplateGoldenTest, testing::ValuesIn(TemplateNames()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(ChatTemplateGoldenTest, AllTemplatesPresent) { EXPECT_EQ(TemplateNames().size(), 47u); }

}  // namespace
}  // namespace sg
