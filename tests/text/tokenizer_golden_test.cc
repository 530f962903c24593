// Golden agreement with Hugging Face `tokenizers` 0.23.2 (and transformers' clean-up) on the
// real tokenizer.json files of five families: every test string's ids with and without special
// tokens, the decoded texts, and the per-id pieces and decodes.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/text/tokenizer.h"
#include "support/test_data.h"

namespace sg {
namespace {

std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    rows.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return rows;
}

std::map<int64_t, std::string> TestStrings() {
  std::map<int64_t, std::string> texts;
  for (const auto& row : ReadJsonl(test::kRefdataDir + "/golden/test_strings.jsonl")) {
    texts[row["id"].get<int64_t>()] = row["text"].get<std::string>();
  }
  return texts;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

class GoldenTest : public testing::TestWithParam<std::string> {};

TEST_P(GoldenTest, TokenizeJsonl) {
  const std::string family = GetParam();
  auto tok = Tokenizer::Load(test::kRefdataDir + "/tokenizers/" + family);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::map<int64_t, std::string> texts = TestStrings();
  auto rows = ReadJsonl(test::kRefdataDir + "/golden/tokenize/" + family + "/tokenize.jsonl");
  ASSERT_FALSE(rows.empty());
  std::map<std::string, std::pair<int, int>> agree;  // field -> (ok, total)
  int reported = 0;
  auto check = [&](const std::string& field, bool ok, const std::string& detail) {
    auto& a = agree[field];
    a.second++;
    if (ok) {
      a.first++;
    } else if (reported++ < 15) {
      ADD_FAILURE() << family << " " << field << ": " << detail;
    }
  };
  for (const auto& row : rows) {
    int64_t id = row["id"].get<int64_t>();
    const std::string& text = texts[id];
    auto ids = row["ids"].get<std::vector<int32_t>>();
    auto ids_special = row["ids_special"].get<std::vector<int32_t>>();
    Encoding plain = (*tok)->Encode(text, false);
    Encoding special = (*tok)->Encode(text, true);
    check("ids", plain.ids == ids,
          "string " + std::to_string(id) + "\n got  " + Show(plain.ids) + "\n want " + Show(ids));
    check("ids_special", special.ids == ids_special, "string " + std::to_string(id));
    std::string dec = (*tok)->Decode(ids_special, false);
    std::string dec_skip = (*tok)->Decode(ids_special, true);
    check("text", dec == row["text"].get<std::string>(),
          "string " + std::to_string(id) + " got [" + dec + "]");
    check("text_skip", dec_skip == row["text_skip"].get<std::string>(),
          "string " + std::to_string(id) + " got [" + dec_skip + "]");
    if (row.contains("text_clean")) {
      std::string c = Tokenizer::CleanUpTokenizationSpaces(dec);
      check("text_clean", c == row["text_clean"].get<std::string>(),
            "string " + std::to_string(id) + " got [" + c + "]");
    }
    if (row.contains("text_skip_clean")) {
      std::string c = Tokenizer::CleanUpTokenizationSpaces(dec_skip);
      check("text_skip_clean", c == row["text_skip_clean"].get<std::string>(),
            "string " + std::to_string(id) + " got [" + c + "]");
    }
  }
  for (const auto& [field, a] : agree) {
    std::printf("[agreement] %s tokenize.jsonl %s: %d/%d\n", family.c_str(), field.c_str(), a.first,
                a.second);
  }
}

TEST_P(GoldenTest, DecodeSingleJsonl) {
  const std::string family = GetParam();
  auto tok = Tokenizer::Load(test::kRefdataDir + "/tokenizers/" + family);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto rows = ReadJsonl(test::kRefdataDir + "/golden/tokenize/" + family + "/decode_single.jsonl");
  ASSERT_FALSE(rows.empty());
  int ok_piece = 0, ok_text = 0, ok_skip = 0, reported = 0;
  for (const auto& row : rows) {
    int32_t id = row["id"].get<int32_t>();
    std::vector<int32_t> one{id};
    std::string piece((*tok)->IdToPiece(id));
    std::string text = (*tok)->Decode(one, false), skip = (*tok)->Decode(one, true);
    bool a = piece == row["piece"].get<std::string>();
    bool b = text == row["text"].get<std::string>();
    bool c = skip == row["text_skip"].get<std::string>();
    ok_piece += a;
    ok_text += b;
    ok_skip += c;
    if ((!a || !b || !c) && reported++ < 10) {
      ADD_FAILURE() << family << " id " << id << " piece [" << piece << "] text [" << text
                    << "] skip [" << skip << "]";
    }
  }
  std::printf("[agreement] %s decode_single.jsonl piece %d/%zu text %d/%zu text_skip %d/%zu\n",
              family.c_str(), ok_piece, rows.size(), ok_text, rows.size(), ok_skip, rows.size());
}

// chat.jsonl: each family's chat template rendered, then tokenized without added specials (the
// template writes them itself).
TEST(GoldenChat, RenderedTemplatesTokenize) {
  for (const std::string family : {"llama3", "qwen3"}) {
    auto tok = Tokenizer::Load(test::kRefdataDir + "/tokenizers/" + family);
    ASSERT_TRUE(tok.ok()) << tok.status().ToString();
    auto rows = ReadJsonl(test::kRefdataDir + "/golden/tokenize/" + family + "/chat.jsonl");
    ASSERT_FALSE(rows.empty());
    int ok = 0, total = 0;
    for (const auto& row : rows) {
      // Rows where only Python's Jinja rendered carry text_py / ids_py; error-only rows no ids.
      const char* text_key = row.contains("ids") ? "text" : "text_py";
      const char* ids_key = row.contains("ids") ? "ids" : "ids_py";
      if (!row.contains(text_key) || !row.contains(ids_key)) continue;
      ++total;
      auto want = row[ids_key].get<std::vector<int32_t>>();
      auto got = (*tok)->Encode(row[text_key].get<std::string>(), false).ids;
      if (got == want) {
        ++ok;
      } else {
        ADD_FAILURE() << family << " " << row["name"] << "\n got  " << Show(got) << "\n want "
                      << Show(want);
      }
    }
    EXPECT_GT(total, 30);
    std::printf("[agreement] %s chat.jsonl ids: %d/%d\n", family.c_str(), ok, total);
  }
}

INSTANTIATE_TEST_SUITE_P(Families, GoldenTest,
                         testing::Values("gpt2", "llama3", "qwen3", "llama2", "mistral"));

}  // namespace
}  // namespace sg
