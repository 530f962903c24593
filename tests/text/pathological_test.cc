// Abuse tests of the tokenizers: huge and odd inputs never crash, never hang (each test stays well
// under ~2 s; a quadratic merge loop on 1 MB would take minutes) and give sane output: every id in
// the vocabulary, one offset pair per id inside the text, valid UTF-8 out of Decode, and the text
// back from Decode(Encode(text)) wherever Hugging Face round-trips it too (checked with npm
// `tokenizers` 0.23.2 for every family and input used below).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/text/tokenizer.h"

namespace sg {
namespace {

// Loaded once per process: the llama3/qwen3 files are 9-11 MB of JSON.
const Tokenizer* Get(const std::string& family) {
  static std::map<std::string, std::unique_ptr<Tokenizer>>* cache =
      new std::map<std::string, std::unique_ptr<Tokenizer>>();
  auto it = cache->find(family);
  if (it != cache->end()) return it->second.get();
  auto tok = Tokenizer::Load(STREAMGEN_SHARED_DIR "/refdata/tokenizers/" + family);
  if (!tok.ok()) {
    ADD_FAILURE() << family << ": " << tok.status().ToString();
    return nullptr;
  }
  return cache->emplace(family, std::move(tok).value()).first->second.get();
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF), as Rust's String holds.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t min_cp = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string Repeat(std::string_view unit, size_t n) {
  std::string s;
  s.reserve(unit.size() * n);
  for (size_t i = 0; i < n; ++i) s.append(unit);
  return s;
}

// The invariants every encoding must keep, whatever the input.
void ExpectSane(const Tokenizer& tok, std::string_view text, const Encoding& enc) {
  ASSERT_EQ(enc.ids.size(), enc.offsets.size());
  const int32_t vocab = tok.vocab_size();
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    ASSERT_GE(enc.ids[i], 0) << "token " << i;
    ASSERT_LT(enc.ids[i], vocab) << "token " << i;
    ASSERT_LE(enc.offsets[i].first, enc.offsets[i].second) << "token " << i;
    ASSERT_LE(enc.offsets[i].second, text.size()) << "token " << i;
  }
  // Every token but the post-processor's consumes at least one byte.
  EXPECT_LE(enc.ids.size(), text.size() + 2);
  EXPECT_TRUE(IsValidUtf8(tok.Decode(enc.ids, false)));
}

void ExpectRoundTrip(const Tokenizer& tok, const std::string& text) {
  const Encoding enc = tok.Encode(text, /*add_special_tokens=*/false);
  ExpectSane(tok, text, enc);
  if (!text.empty()) {
    EXPECT_FALSE(enc.ids.empty());
  }
  const std::string back = tok.Decode(enc.ids, /*skip_special_tokens=*/false);
  EXPECT_EQ(back.size(), text.size());
  EXPECT_TRUE(back == text)
      << "first difference at byte "
      << (std::mismatch(back.begin(), back.end(), text.begin(), text.end()).first - back.begin());
}

class PathologicalTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    tok_ = Get(GetParam());
    if (tok_ == nullptr) GTEST_SKIP() << "tokenizer did not load (failure reported)";
  }
  const Tokenizer* tok_ = nullptr;
};

// Sanitizer builds (scripts/run_tests.sh runs this suite under ASan+UBSan) are ~20x slower: they
// check the same code paths on 64 KiB, the Release build on the full megabyte.
// (GCC defines __SANITIZE_ADDRESS__; clang answers __has_feature(address_sanitizer).)
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kMegabyte = 1 << 16;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr size_t kMegabyte = 1 << 16;
#else
constexpr size_t kMegabyte = 1 << 20;
#endif
#else
constexpr size_t kMegabyte = 1 << 20;
#endif

TEST_P(PathologicalTest, MegabyteOfOneLetter) { ExpectRoundTrip(*tok_, Repeat("a", kMegabyte)); }

TEST_P(PathologicalTest, MegabyteOfSpaces) { ExpectRoundTrip(*tok_, Repeat(" ", kMegabyte)); }

TEST_P(PathologicalTest, MegabyteOfNewlines) { ExpectRoundTrip(*tok_, Repeat("\n", kMegabyte)); }

TEST_P(PathologicalTest, MegabyteOfTwoByteChars) {
  ExpectRoundTrip(*tok_, Repeat("\xC3\xA9", kMegabyte / 2));  // é
}

TEST_P(PathologicalTest, MegabyteOfEmoji) {
  ExpectRoundTrip(*tok_, Repeat("\xF0\x9F\x98\x80", kMegabyte / 4));  // 😀
}

TEST_P(PathologicalTest, NulBytesAreOrdinaryCharacters) {
  ExpectRoundTrip(*tok_, std::string("a\0b\0\0c", 6));
  ExpectRoundTrip(*tok_, std::string(100000, '\0'));
}

TEST_P(PathologicalTest, VeryLongWords) {
  std::mt19937 rng(7);
  std::string letters, digits, mixed;
  for (int i = 0; i < 200000; ++i) letters += static_cast<char>('a' + rng() % 26);
  for (int i = 0; i < 200000; ++i) digits += static_cast<char>('0' + rng() % 10);
  // A word of letters of several scripts with no space anywhere: Latin, Cyrillic, CJK.
  const char* pieces[] = {"x", "\xD0\x96", "\xE4\xB8\xAD", "Q", "\xC3\xA9"};
  for (int i = 0; i < 100000; ++i) mixed += pieces[rng() % 5];
  ExpectRoundTrip(*tok_, letters);
  ExpectRoundTrip(*tok_, digits);
  ExpectRoundTrip(*tok_, mixed);
  ExpectRoundTrip(*tok_, "https://example.com/" + Repeat("a1_b2-", 30000));
}

// Bytes that are not UTF-8 can reach Encode (a GGUF prompt file, a client bug); HF cannot even
// represent them (&str), so there is no reference: only the invariants are checked.
const std::vector<std::string>& InvalidUtf8Cases() {
  static const std::vector<std::string>* cases = new std::vector<std::string>{
      "\xFF",
      "\xFE\xFF",
      "\x80\x80\x80",
      "\xC0\xAF",                    // overlong '/'
      "\xE0\x80\xAF",                // overlong '/'
      "\xE2\x82",                    // truncated €
      "Hello \xE2\x82",              // truncated at the end
      "\xE2\x82 world",              // truncated before ASCII
      "\xF4\x90\x80\x80",            // above U+10FFFF
      "\xF8\x88\x80\x80\x80",        // 5-byte form
      "caf\xE9",                     // Latin-1
      "<|endoftext|>\xFF</s>",       // special-token literals around a bad byte
      "\xED\xA0\x80",                // lone surrogates: U+D800 written as 3 bytes (CESU-8 leakage)
      "\xED\xBF\xBF",                // U+DFFF
      "a\xED\xA0\xBD\xED\xB8\x80z",  // the surrogate pair of 😀, each half encoded
  };
  return *cases;
}

void ExpectInvalidUtf8Sane(const Tokenizer& tok) {
  for (const std::string& text : InvalidUtf8Cases()) {
    SCOPED_TRACE(testing::PrintToString(text));
    ExpectSane(tok, text, tok.Encode(text, false));
    ExpectSane(tok, text, tok.Encode(text, true));
  }
  std::mt19937 rng(11);
  std::string noise(kMegabyte / 4, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  ExpectSane(tok, noise, tok.Encode(noise, false));
  const std::string surrogates = Repeat("\xED\xB0\x80", 100000);  // 300 KB of U+DC00
  ExpectSane(tok, surrogates, tok.Encode(surrogates, false));
}

// The offsets index the caller's bytes, not the tokenizer's U+FFFD-repaired copy (3 bytes per bad
// byte), so none points past the end of the text.
TEST_P(PathologicalTest, InvalidUtf8NeverCrashes) { ExpectInvalidUtf8Sane(*tok_); }

struct SpecialLiteral {
  std::string family;
  std::string literal;
  int32_t id;
};

// Each family's end-of-text token, with the id HF gives for its literal.
const SpecialLiteral kSpecials[] = {{"llama2", "</s>", 2},
                                    {"mistral", "</s>", 2},
                                    {"gpt2", "<|endoftext|>", 50256},
                                    {"llama3", "<|end_of_text|>", 128001},
                                    {"qwen3", "<|endoftext|>", 151643}};

TEST_P(PathologicalTest, TenThousandSpecialTokenLiterals) {
  const auto* sp = std::find_if(std::begin(kSpecials), std::end(kSpecials),
                                [&](const SpecialLiteral& s) { return s.family == GetParam(); });
  ASSERT_NE(sp, std::end(kSpecials));
  const std::string text = Repeat(sp->literal, 10000);
  const Encoding enc = tok_->Encode(text, false);
  ExpectSane(*tok_, text, enc);
  ASSERT_EQ(enc.ids.size(), 10000u);
  EXPECT_EQ(std::count(enc.ids.begin(), enc.ids.end(), sp->id), 10000);
  EXPECT_EQ(enc.offsets.back(),
            std::make_pair(static_cast<uint32_t>(text.size() - sp->literal.size()),
                           static_cast<uint32_t>(text.size())));
  EXPECT_TRUE(tok_->IsSpecial(sp->id));
  EXPECT_EQ(tok_->Decode(enc.ids, /*skip_special_tokens=*/false), text);
  EXPECT_EQ(tok_->Decode(enc.ids, /*skip_special_tokens=*/true), "");
  // Interleaved with words, the literals still split the text (HF: x, </s>, ▁, ▁y, </s> for the
  // SentencePiece families; x, <|...|>, Ġy, <|...|> for the byte-level ones).
  const std::string mixed = Repeat("x" + sp->literal + " y" + sp->literal, 5000);
  const Encoding menc = tok_->Encode(mixed, false);
  ExpectSane(*tok_, mixed, menc);
  EXPECT_EQ(std::count(menc.ids.begin(), menc.ids.end(), sp->id), 10000);
}

TEST_P(PathologicalTest, DecodeSkipsOutOfRangeIds) {
  const Encoding enc = tok_->Encode("Hello world", false);
  ASSERT_FALSE(enc.ids.empty());
  const std::string expected = tok_->Decode(enc.ids, false);
  EXPECT_EQ(expected, "Hello world");
  const int32_t vocab = tok_->vocab_size();
  const int32_t bad[] = {-1, std::numeric_limits<int32_t>::min(),
                         std::numeric_limits<int32_t>::max(), vocab, vocab + 1};
  std::vector<int32_t> ids;
  for (size_t i = 0; i < enc.ids.size(); ++i) {
    ids.push_back(bad[i % std::size(bad)]);
    ids.push_back(enc.ids[i]);
  }
  ids.insert(ids.end(), std::begin(bad), std::end(bad));
  EXPECT_EQ(tok_->Decode(ids, false), expected);
  EXPECT_EQ(tok_->Decode(ids, true), expected);
  EXPECT_EQ(tok_->Decode(bad, false), "");
  for (const int32_t id : bad) {
    EXPECT_TRUE(tok_->IdToPiece(id).empty()) << id;
    EXPECT_FALSE(tok_->IsSpecial(id)) << id;
  }
}

// Any id sequence decodes to valid UTF-8 (partial byte pieces become U+FFFD), specials included.
TEST_P(PathologicalTest, RandomIdsDecodeToValidUtf8) {
  std::mt19937 rng(13);
  std::vector<int32_t> ids(20000);
  for (int32_t& id : ids) id = static_cast<int32_t>(rng() % tok_->vocab_size());
  EXPECT_TRUE(IsValidUtf8(tok_->Decode(ids, false)));
  EXPECT_TRUE(IsValidUtf8(tok_->Decode(ids, true)));
}

TEST_P(PathologicalTest, EmptyText) {
  const Encoding enc = tok_->Encode("", false);
  EXPECT_TRUE(enc.ids.empty());
  EXPECT_TRUE(enc.offsets.empty());
  ExpectSane(*tok_, "", tok_->Encode("", true));
  EXPECT_EQ(tok_->Decode({}, false), "");
}

// A hostile tokenizer.json nesting Sequence decoders 100 000 deep is refused with an error; the
// component factories (one recursion per level) never see it, so the stack cannot overflow.
TEST(PathologicalJsonTest, DeeplyNestedSequenceIsRefused) {
  nlohmann::json decoder = {{"type", "Fuse"}};
  for (int i = 0; i < 100000; ++i) {
    nlohmann::json outer = {{"type", "Sequence"}, {"decoders", nlohmann::json::array()}};
    outer["decoders"].push_back(std::move(decoder));
    decoder = std::move(outer);
  }
  nlohmann::json tok = {
      {"model", {{"type", "BPE"}, {"vocab", {{"a", 0}}}, {"merges", nlohmann::json::array()}}},
      {"decoder", std::move(decoder)}};
  auto result = Tokenizer::FromJson(tok, nlohmann::json());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("nests deeper than"), std::string::npos)
      << result.status().ToString();

  // A sane depth (a Sequence of a Sequence) still loads.
  tok["decoder"] = {{"type", "Sequence"},
                    {"decoders", {{{"type", "Sequence"}, {"decoders", {{{"type", "Fuse"}}}}}}}};
  EXPECT_TRUE(Tokenizer::FromJson(tok, nlohmann::json()).ok());
}

INSTANTIATE_TEST_SUITE_P(Families, PathologicalTest,
                         testing::Values("llama2", "mistral", "gpt2", "llama3", "qwen3"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace sg
