// StopCriteria: TGI's order (length, EOS, stop string), stop strings across token boundaries and
// only at the end of the text, TGI's `$` regex quirks, and the rolling buffer's trimming on long
// and multi-byte generations.
#include "engine/sampling/stop_criteria.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sg {
namespace {

StoppingParams Params(int32_t max_new_tokens, std::vector<std::string> stops = {},
                      bool ignore_eos = false) {
  StoppingParams p;
  p.max_new_tokens = max_new_tokens;
  p.stop_sequences = std::move(stops);
  p.ignore_eos = ignore_eos;
  return p;
}

const std::vector<int32_t> kEos = {2, 128009};

TEST(FinishReasonNameTest, TgiNativeNames) {
  EXPECT_EQ(FinishReasonName(FinishReason::kLength), "length");
  EXPECT_EQ(FinishReasonName(FinishReason::kEosToken), "eos_token");
  EXPECT_EQ(FinishReasonName(FinishReason::kStopSequence), "stop_sequence");
}

TEST(StopCriteriaTest, LengthBeatsEos) {
  StopCriteria stop(Params(2), kEos);
  EXPECT_EQ(stop.Push(5, "a"), std::nullopt);
  EXPECT_EQ(stop.Push(2, ""), FinishReason::kLength);
  EXPECT_EQ(stop.generated(), 2);
}

TEST(StopCriteriaTest, LengthBeatsStopSequence) {
  StopCriteria stop(Params(1, {"a"}), kEos);
  EXPECT_EQ(stop.Push(5, "a"), FinishReason::kLength);
}

TEST(StopCriteriaTest, AnyEosIdStops) {
  StopCriteria a(Params(10), kEos);
  EXPECT_EQ(a.Push(7, "x"), std::nullopt);
  EXPECT_EQ(a.Push(128009, ""), FinishReason::kEosToken);
  StopCriteria b(Params(10), kEos);
  EXPECT_EQ(b.Push(2, ""), FinishReason::kEosToken);
  EXPECT_EQ(b.generated(), 1);
}

TEST(StopCriteriaTest, EosBeatsStopSequence) {
  StopCriteria stop(Params(10, {"end"}), kEos);
  EXPECT_EQ(stop.Push(2, "end"), FinishReason::kEosToken);
}

TEST(StopCriteriaTest, IgnoreEosSkipsOnlyEos) {
  StopCriteria stop(Params(3, {}, /*ignore_eos=*/true), kEos);
  EXPECT_EQ(stop.Push(2, ""), std::nullopt);
  EXPECT_EQ(stop.Push(2, ""), std::nullopt);
  EXPECT_EQ(stop.Push(2, ""), FinishReason::kLength);
}

TEST(StopCriteriaTest, StopStringAcrossTokenBoundaries) {
  StopCriteria stop(Params(100, {"world"}), kEos);
  EXPECT_EQ(stop.Push(10, "hel"), std::nullopt);
  EXPECT_EQ(stop.Push(11, "lo wo"), std::nullopt);
  EXPECT_EQ(stop.Push(12, ""), std::nullopt);  // bytes held back by the detokenizer
  EXPECT_EQ(stop.Push(13, "rld"), FinishReason::kStopSequence);
}

TEST(StopCriteriaTest, StopStringInsideATokenDoesNotMatch) {
  StopCriteria stop(Params(100, {"stop"}), kEos);
  EXPECT_EQ(stop.Push(10, "a stop here"), std::nullopt);
  EXPECT_EQ(stop.Push(11, " and more"), std::nullopt);
  EXPECT_EQ(stop.Push(12, " to stop"), FinishReason::kStopSequence);
}

TEST(StopCriteriaTest, AnyOfSeveralStopStrings) {
  StopCriteria stop(Params(100, {"###", "\nUser:"}), kEos);
  EXPECT_EQ(stop.Push(10, "Hi.\nUs"), std::nullopt);
  EXPECT_EQ(stop.Push(11, "er:"), FinishReason::kStopSequence);
}

TEST(StopCriteriaTest, DollarAlsoMatchesBeforeAFinalNewline) {
  // Python's re.search("stop$", "...stop\n") matches; TGI therefore stops here too.
  StopCriteria a(Params(100, {"stop"}), kEos);
  EXPECT_EQ(a.Push(1, "please stop\n"), FinishReason::kStopSequence);
  StopCriteria b(Params(100, {"stop"}), kEos);
  EXPECT_EQ(b.Push(1, "please stop\n\n"), std::nullopt);
  EXPECT_EQ(b.Push(1, "stop \n"), std::nullopt);
}

TEST(StopCriteriaTest, EmptyStopStringMatchesAtOnce) {
  StopCriteria stop(Params(100, {""}), kEos);
  EXPECT_EQ(stop.Push(1, ""), FinishReason::kStopSequence);
}

TEST(StopCriteriaTest, NoStopStringsKeepNoBuffer) {
  StopCriteria stop(Params(100), kEos);
  EXPECT_EQ(stop.Push(1, "some text"), std::nullopt);
  EXPECT_TRUE(stop.buffer().empty());
}

TEST(StopCriteriaTest, TrimmingKeepsMatchingOnALongGeneration) {
  StopCriteria stop(Params(1 << 30, {"<END>"}), kEos);
  std::string all;
  for (int i = 0; i < 20000; ++i) {
    const std::string piece = "tok" + std::to_string(i % 97) + " ";
    all += piece;
    ASSERT_EQ(stop.Push(100, piece), std::nullopt) << i;
    // The buffer is always a suffix of the whole text, and bounded.
    ASSERT_LE(stop.buffer().size(), 300u + piece.size());
    ASSERT_TRUE(std::string_view(all).ends_with(stop.buffer()));
  }
  EXPECT_GE(stop.buffer().size(), 200u);
  EXPECT_EQ(stop.Push(101, "<EN"), std::nullopt);
  EXPECT_EQ(stop.Push(102, "D>"), FinishReason::kStopSequence);
}

TEST(StopCriteriaTest, LongStopStringSurvivesTrimming) {
  // 250 bytes: longer than TGI's 200-character window, so the window grows to fit it.
  const std::string long_stop(250, 'z');
  StopCriteria stop(Params(1 << 30, {long_stop}), kEos);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(stop.Push(1, "abcdefg"), std::nullopt);
  for (int i = 0; i < 249; ++i) ASSERT_EQ(stop.Push(1, "z"), std::nullopt) << i;
  EXPECT_EQ(stop.Push(1, "z"), FinishReason::kStopSequence);
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

TEST(StopCriteriaTest, MultiByteTextAtTheTrimBoundary) {
  // 2-, 3- and 4-byte sequences in rotation (11 bytes a cycle, prime to the 200-byte window) put
  // the cut inside a sequence at some point; the buffer must always start on a sequence boundary
  // and still match a multi-byte stop string.
  const std::vector<std::string> pieces = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "ab"};
  int moved_cuts = 0;  // trims whose cut had to move forward (buffer left below 200 bytes)
  for (size_t shift = 0; shift < pieces.size(); ++shift) {
    StopCriteria stop(Params(1 << 30, {"\xE2\x82\xAC\xF0\x9F\x98\x80!"}), kEos);
    std::string all;
    for (int i = 0; i < 1000; ++i) {
      const std::string& piece = pieces[(i + shift) % pieces.size()];
      all += piece;
      ASSERT_EQ(stop.Push(1, piece), std::nullopt);
      ASSERT_FALSE(stop.buffer().empty());
      ASSERT_FALSE(IsContinuation(stop.buffer().front())) << "shift " << shift << " step " << i;
      ASSERT_TRUE(std::string_view(all).ends_with(stop.buffer()));
      if (all.size() > 300 && stop.buffer().size() < 200) ++moved_cuts;
    }
    EXPECT_EQ(stop.Push(1, "\xE2\x82\xAC"), std::nullopt);
    EXPECT_EQ(stop.Push(1, "\xF0\x9F\x98\x80"), std::nullopt);
    EXPECT_EQ(stop.Push(1, "!"), FinishReason::kStopSequence);
  }
  EXPECT_GT(moved_cuts, 0) << "the cut never fell inside a sequence: the test checks nothing";
}

}  // namespace
}  // namespace sg
