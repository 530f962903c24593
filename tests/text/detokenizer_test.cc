// IncrementalDetokenizer against a fake tokenizer with SentencePiece (Strip + ByteFallback) and
// byte-level decoders: hand-picked streams, then thousands of random id sequences whose pieces
// must concatenate to Decode(all ids) and each be valid UTF-8.
#include "engine/text/detokenizer.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "detokenizer_fake_tokenizer.h"
#include "detokenizer_utf8.h"

namespace sg {
namespace {

using testing::FakeTokenizer;
using testing::IsValidUtf8;

struct Streamed {
  std::vector<std::string> pieces;
  std::vector<bool> special;
  std::string text;  // concatenation, Flush included
};

Streamed Stream(const Tokenizer& tok, const std::vector<int32_t>& ids, bool skip,
                const std::vector<int32_t>* prompt = nullptr) {
  IncrementalDetokenizer detok(tok, skip);
  if (prompt != nullptr) detok.SetPrompt(*prompt);
  Streamed out;
  for (int32_t id : ids) {
    TextPiece p = detok.Push(id);
    out.text += p.text;
    out.pieces.push_back(std::move(p.text));
    out.special.push_back(p.special);
  }
  std::string rest = detok.Flush();
  out.text += rest;
  out.pieces.push_back(std::move(rest));
  return out;
}

int32_t Id(const FakeTokenizer& tok, std::string_view piece) { return *tok.PieceToId(piece); }

TEST(DetokenizerTest, FirstSentencePieceSpaceFollowsDecode) {
  FakeTokenizer tok(FakeTokenizer::Kind::kSentencePiece);
  const int32_t hello = Id(tok, "\xE2\x96\x81Hello"), world = Id(tok, "\xE2\x96\x81world");
  const Streamed s = Stream(tok, {hello, world}, false);
  EXPECT_EQ(s.pieces[0], "Hello");  // Decode drops the sequence's first leading space
  EXPECT_EQ(s.pieces[1], " world");
  EXPECT_EQ(s.text, "Hello world");
}

TEST(DetokenizerTest, PromptContextKeepsLeadingSpace) {
  FakeTokenizer tok(FakeTokenizer::Kind::kSentencePiece);
  const int32_t hello = Id(tok, "\xE2\x96\x81Hello"), world = Id(tok, "\xE2\x96\x81world");
  const int32_t bos = Id(tok, "<s>");
  const std::vector<int32_t> prompt = {bos, hello};
  const Streamed s = Stream(tok, {world, hello}, true, &prompt);
  EXPECT_EQ(s.pieces[0], " world");
  EXPECT_EQ(s.text, " world Hello");
}

TEST(DetokenizerTest, PromptOfSkippedSpecialsOnlyStillKeepsSpaceRules) {
  FakeTokenizer tok(FakeTokenizer::Kind::kSentencePiece);
  const int32_t hello = Id(tok, "\xE2\x96\x81Hello"), eos = Id(tok, "</s>");
  // Tail of six skipped specials decodes to nothing; the detokenizer widens it to the whole
  // prompt, whose "Hello" keeps the generated token's space.
  const std::vector<int32_t> prompt = {hello, eos, eos, eos, eos, eos, eos};
  EXPECT_EQ(Stream(tok, {hello}, true, &prompt).text, " Hello");
}

TEST(DetokenizerTest, HoldsBackSplitEmojiUntilComplete) {
  for (auto kind : {FakeTokenizer::Kind::kSentencePiece, FakeTokenizer::Kind::kByteLevel}) {
    FakeTokenizer tok(kind);
    const int32_t a = Id(tok, "ab");
    const Streamed s = Stream(tok, {a, 0xF0, 0x9F, 0x98, 0x80, a}, false);  // 😀 as four bytes
    EXPECT_EQ(s.pieces[0], "ab");
    EXPECT_EQ(s.pieces[1], "");
    EXPECT_EQ(s.pieces[2], "");
    EXPECT_EQ(s.pieces[3], "");
    if (kind == FakeTokenizer::Kind::kByteLevel) {
      EXPECT_EQ(s.pieces[4], "\xF0\x9F\x98\x80");
      EXPECT_EQ(s.pieces[5], "ab");
    } else {
      // ByteFallback judges the whole run of byte pieces, so it is final once "ab" ends it.
      EXPECT_EQ(s.pieces[4], "");
      EXPECT_EQ(s.pieces[5],
                "\xF0\x9F\x98\x80"
                "ab");
    }
    EXPECT_EQ(s.text,
              "ab\xF0\x9F\x98\x80"
              "ab");
  }
}

TEST(DetokenizerTest, ByteRunTurnedInvalidLaterIsNotEmittedEarly) {
  // <0xC3><0xA9> alone is "é", but followed by <0x80> the run is invalid: three U+FFFD.
  FakeTokenizer tok(FakeTokenizer::Kind::kSentencePiece);
  const std::vector<int32_t> ids = {0xC3, 0xA9, 0x80, Id(tok, "ab")};
  const Streamed s = Stream(tok, ids, false);
  EXPECT_EQ(s.text,
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "ab");
  EXPECT_EQ(s.text, tok.Decode(ids, false));
}

TEST(DetokenizerTest, IncompleteTailFlushesAsReplacement) {
  FakeTokenizer tok(FakeTokenizer::Kind::kByteLevel);
  const Streamed s = Stream(tok, {Id(tok, "ab"), 0xE2, 0x82}, false);
  EXPECT_EQ(s.pieces[1], "");
  EXPECT_EQ(s.pieces[2], "");
  EXPECT_EQ(s.pieces.back(), "\xEF\xBF\xBD");  // one maximal subpart, one U+FFFD
  EXPECT_EQ(s.text, tok.Decode(std::vector<int32_t>{Id(tok, "ab"), 0xE2, 0x82}, false));
}

TEST(DetokenizerTest, MarksSpecialTokensAndSkipsTheirText) {
  FakeTokenizer tok(FakeTokenizer::Kind::kSentencePiece);
  const int32_t hello = Id(tok, "\xE2\x96\x81Hello"), eos = Id(tok, "</s>");
  const Streamed kept = Stream(tok, {hello, eos}, false);
  EXPECT_FALSE(kept.special[0]);
  EXPECT_TRUE(kept.special[1]);
  EXPECT_EQ(kept.pieces[1], "</s>");
  const Streamed skipped = Stream(tok, {hello, eos}, true);
  EXPECT_TRUE(skipped.special[1]);
  EXPECT_EQ(skipped.pieces[1], "");
  EXPECT_EQ(skipped.text, "Hello");
}

TEST(DetokenizerTest, SpaceOnlyTokensAfterStripAreNotLost) {
  FakeTokenizer tok(FakeTokenizer::Kind::kSentencePiece);
  const int32_t sp = Id(tok, "\xE2\x96\x81"), a = Id(tok, "ab"), eos = Id(tok, "</s>");
  for (const std::vector<int32_t>& ids :
       {std::vector<int32_t>{sp, sp, a}, {a, sp, 0x20, a}, {eos, sp, a}, {0x20, 0x20, sp, a}}) {
    for (bool skip : {false, true}) {
      EXPECT_EQ(Stream(tok, ids, skip).text, tok.Decode(ids, skip));
    }
  }
}

// Random streams biased towards what breaks streaming: byte pieces (many forming real multi-byte
// characters split across tokens), lone "▁", special tokens, U+FFFD pieces.
std::vector<int32_t> RandomIds(const FakeTokenizer& tok, std::mt19937& rng) {
  static const std::vector<std::string> kChars = {
      "\xF0\x9F\x98\x80", "\xE2\x82\xAC", "\xC3\xA9", "\xE4\xBD\xA0", "\xF0\x9F\x87\xAB", " "};
  std::vector<int32_t> ids;
  const int len = std::uniform_int_distribution<int>(0, 24)(rng);
  while (static_cast<int>(ids.size()) < len) {
    const int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    if (kind <= 2) {  // a whole character as byte pieces
      const std::string& c = kChars[rng() % kChars.size()];
      for (unsigned char b : c) ids.push_back(b);
    } else if (kind == 3) {  // a random (often invalid) byte
      ids.push_back(static_cast<int32_t>(rng() % 256));
    } else if (kind == 4) {
      ids.push_back(tok.first_special() + static_cast<int32_t>(rng() % 3));
    } else {
      ids.push_back(256 + static_cast<int32_t>(rng() % (tok.first_special() - 256)));
    }
  }
  return ids;
}

TEST(DetokenizerTest, RandomStreamsConcatenateToDecode) {
  std::mt19937 rng(1234);
  int checked_prompt = 0;
  for (auto kind : {FakeTokenizer::Kind::kSentencePiece, FakeTokenizer::Kind::kByteLevel}) {
    FakeTokenizer tok(kind);
    for (int iter = 0; iter < 3000; ++iter) {
      const std::vector<int32_t> ids = RandomIds(tok, rng);
      for (bool skip : {false, true}) {
        const Streamed s = Stream(tok, ids, skip);
        ASSERT_EQ(s.text, tok.Decode(ids, skip)) << "iter " << iter << " skip " << skip;
        for (const std::string& p : s.pieces) ASSERT_TRUE(IsValidUtf8(p)) << "iter " << iter;

        // With a prompt: the text the generation adds after the prompt's text.
        const std::vector<int32_t> prompt = RandomIds(tok, rng);
        std::vector<int32_t> all = prompt;
        all.insert(all.end(), ids.begin(), ids.end());
        const std::string before = tok.Decode(prompt, skip), after = tok.Decode(all, skip);
        const Streamed sp = Stream(tok, ids, skip, &prompt);
        for (const std::string& p : sp.pieces) ASSERT_TRUE(IsValidUtf8(p)) << "iter " << iter;
        if (before.ends_with("\xEF\xBF\xBD") || !after.starts_with(before)) continue;
        ASSERT_EQ(sp.text, after.substr(before.size())) << "iter " << iter << " skip " << skip;
        ++checked_prompt;
      }
    }
  }
  EXPECT_GT(checked_prompt, 3000);
}

}  // namespace
}  // namespace sg
