// The Rx tree: constructor simplifications, the saturating expanded size, the debug rendering,
// and the UTF-8 classes of RxCodepoints checked by encoding scalar values and running them
// through a compiled ByteDfa (boundaries of every encoded length, surrogates, 0x10FFFF, and an
// exhaustive count of the 1-, 2- and 3-byte strings the any-scalar class accepts).
#include "engine/constrain/rx.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/constrain/byte_dfa.h"
#include "engine/text/utf8.h"

// Own namespace: the test files of this folder are compiled as one unity source.
namespace sg::rx_test {
namespace {

// Also encodes surrogates (ED A0 80..): the tests check that no class accepts them.
std::string Utf8(uint32_t cp) {
  std::string s;
  utf8::Append(cp, s);
  return s;
}

bool IsSurrogate(uint32_t cp) { return cp >= 0xD800 && cp <= 0xDFFF; }

ByteDfa MustCompile(const Rx& rx) {
  auto dfa = ByteDfa::Compile(rx);
  EXPECT_TRUE(dfa.ok()) << dfa.status().ToString();
  return std::move(dfa).value();
}

bool InRanges(const std::vector<CodepointRange>& ranges, uint32_t cp) {
  for (const CodepointRange& r : ranges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

TEST(RxTest, ConcatSimplifies) {
  EXPECT_EQ(RxConcat({})->kind, RxKind::kEmpty);
  EXPECT_EQ(RxConcat({RxEmpty(), RxEmpty()})->kind, RxKind::kEmpty);
  const Rx a = RxByte('a');
  EXPECT_EQ(RxConcat({RxEmpty(), a, RxEmpty()}), a);
  EXPECT_EQ(RxConcat({a, RxNothing(), a})->kind, RxKind::kNothing);
  // Nested concatenations are flattened.
  const Rx abc = RxConcat({RxLiteral("ab"), RxByte('c')});
  ASSERT_EQ(abc->kind, RxKind::kConcat);
  EXPECT_EQ(abc->children.size(), 3u);
  EXPECT_EQ(RxLiteral("")->kind, RxKind::kEmpty);
  EXPECT_EQ(RxLiteral("x")->kind, RxKind::kByteSet);
}

TEST(RxTest, AltSimplifies) {
  EXPECT_EQ(RxAlt({})->kind, RxKind::kNothing);
  EXPECT_EQ(RxAlt({RxNothing(), RxNothing()})->kind, RxKind::kNothing);
  const Rx ab = RxLiteral("ab");
  EXPECT_EQ(RxAlt({RxNothing(), ab}), ab);
  // Single-byte options merge into one byte set.
  const Rx set = RxAlt({RxByte('a'), RxByteRange('x', 'z'), RxByte('b')});
  ASSERT_EQ(set->kind, RxKind::kByteSet);
  EXPECT_EQ(set->bytes.count(), 5u);
  const Rx mixed = RxAlt({RxByte('a'), ab, RxAlt({RxByte('b'), RxEmpty()})});
  ASSERT_EQ(mixed->kind, RxKind::kAlt);
  EXPECT_EQ(mixed->children.size(), 3u);  // [ab], "ab", ""
  EXPECT_EQ(RxByteSet({})->kind, RxKind::kNothing);
}

TEST(RxTest, RepeatSimplifies) {
  const Rx a = RxByte('a');
  EXPECT_EQ(RxRepeat(a, 1, 1), a);
  EXPECT_EQ(RxRepeat(a, 0, 0)->kind, RxKind::kEmpty);
  EXPECT_EQ(RxRepeat(RxEmpty(), 2, kRxUnbounded)->kind, RxKind::kEmpty);
  EXPECT_EQ(RxStar(RxNothing())->kind, RxKind::kEmpty);
  EXPECT_EQ(RxPlus(RxNothing())->kind, RxKind::kNothing);
  EXPECT_EQ(RxRepeat(a, 3, 2)->kind, RxKind::kNothing);
  const Rx r = RxRepeat(a, 2, 5);
  ASSERT_EQ(r->kind, RxKind::kRepeat);
  EXPECT_EQ(r->min, 2);
  EXPECT_EQ(r->max, 5);
}

TEST(RxTest, ExpandedSizeCountsUnrolledStates) {
  EXPECT_EQ(RxExpandedSize(RxEmpty(), 100), 1);         // the accepting state
  EXPECT_EQ(RxExpandedSize(RxLiteral("abc"), 100), 4);  // 3 bytes + accept
  EXPECT_EQ(RxExpandedSize(RxAlt({RxLiteral("ab"), RxLiteral("cd")}), 100), 6);  // + 1 split
  EXPECT_EQ(RxExpandedSize(RxRepeat(RxLiteral("ab"), 3, 3), 100), 7);
  EXPECT_EQ(RxExpandedSize(RxRepeat(RxLiteral("ab"), 1, 3), 100), 9);  // 2 + 2 * (2 + 1) + 1
  EXPECT_EQ(RxExpandedSize(RxStar(RxLiteral("ab")), 100), 4);
  EXPECT_EQ(RxExpandedSize(RxRepeat(RxLiteral("ab"), 3, kRxUnbounded), 100), 8);
}

TEST(RxTest, ExpandedSizeSaturatesOnHugeNesting) {
  Rx r = RxByte('a');
  for (int i = 0; i < 20; ++i) r = RxRepeat(r, 1000, 1000);  // 1000^20 states
  EXPECT_EQ(RxExpandedSize(r, 200000), 200001);
  EXPECT_EQ(RxExpandedSize(r, INT64_MAX - 1), INT64_MAX);
  // A shared chain of doublings: 2^200 states, counted in 200 steps.
  Rx d = RxLiteral("ab");
  for (int i = 0; i < 200; ++i) d = RxConcat({d, RxAlt({d, RxByte('c')})});
  EXPECT_EQ(RxExpandedSize(d, 1000000), 1000001);
}

TEST(RxTest, ToStringRendersRegexSyntax) {
  EXPECT_EQ(RxToString(RxLiteral("a.b")), "a\\.b");
  EXPECT_EQ(RxToString(RxByteRange('a', 'c')), "[a-c]");
  EXPECT_EQ(RxToString(RxStar(RxLiteral("ab"))), "(?:ab)*");
  EXPECT_EQ(RxToString(RxRepeat(RxByte('x'), 2, 4)), "x{2,4}");
  EXPECT_EQ(RxToString(RxConcat({RxAlt({RxLiteral("ab"), RxLiteral("cd")}), RxByte(0xFF)})),
            "(?:ab|cd)\\xFF");
}

TEST(RxTest, CodepointBoundariesOfEachEncodedLength) {
  // One class per boundary pair, each checked on every scalar value around it.
  const std::vector<std::pair<uint32_t, uint32_t>> windows = {
      {0x00, 0x100}, {0x700, 0x900}, {0xD700, 0xE100}, {0xFF00, 0x10200}, {0x10FE00, 0x10FFFF}};
  const std::vector<CodepointRange> ranges = {
      {0x41, 0x7F},     {0x80, 0x85},     {0x7F0, 0x7FF},     {0x800, 0x812},
      {0xD7F0, 0xE010}, {0xFFF0, 0xFFFF}, {0x10000, 0x10041}, {0x10FFF0, 0x10FFFF}};
  const ByteDfa dfa = MustCompile(RxCodepoints(ranges));
  for (const auto& [lo, hi] : windows) {
    for (uint32_t cp = lo; cp <= hi; ++cp) {
      if (IsSurrogate(cp)) continue;
      EXPECT_EQ(dfa.Matches(Utf8(cp)), InRanges(ranges, cp)) << std::hex << cp;
    }
  }
  // The surrogate range is inside {0xD7F0, 0xE010} but never encoded (ED A0..BF xx).
  EXPECT_FALSE(dfa.Matches("\xED\xA0\x80"));
  EXPECT_FALSE(dfa.Matches("\xED\xBF\xBF"));
  EXPECT_TRUE(dfa.Matches("\xED\x9F\xBF"));  // U+D7FF
}

TEST(RxTest, OnlySurrogatesIsNothing) {
  const CodepointRange s{0xD800, 0xDFFF};
  EXPECT_EQ(RxCodepoints(std::span<const CodepointRange>(&s, 1))->kind, RxKind::kNothing);
  EXPECT_EQ(RxCodepoints({})->kind, RxKind::kNothing);
}

TEST(RxTest, AnyScalarAcceptsExactlyValidUtf8) {
  const ByteDfa dfa = MustCompile(RxCodepointsExcept({}));
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (IsSurrogate(cp)) continue;
    ASSERT_TRUE(dfa.Matches(Utf8(cp))) << std::hex << cp;
  }
  // Every 1-, 2- and 3-byte string: exactly the encodings of scalar values are accepted.
  int64_t one = 0, two = 0, three = 0;
  for (int a = 0; a < 256; ++a) {
    const int32_t sa = dfa.Next(dfa.start(), static_cast<uint8_t>(a));
    if (sa == ByteDfa::kDead) continue;
    one += dfa.IsAccepting(sa);
    for (int b = 0; b < 256; ++b) {
      const int32_t sb = dfa.Next(sa, static_cast<uint8_t>(b));
      if (sb == ByteDfa::kDead) continue;
      two += dfa.IsAccepting(sb);
      for (int c = 0; c < 256; ++c) {
        const int32_t sc = dfa.Next(sb, static_cast<uint8_t>(c));
        three += sc != ByteDfa::kDead && dfa.IsAccepting(sc);
      }
    }
  }
  EXPECT_EQ(one, 0x80);
  EXPECT_EQ(two, 0x800 - 0x80);
  EXPECT_EQ(three, 0x10000 - 0x800 - 0x800);
  // Overlong forms, values past 0x10FFFF, stray continuation bytes.
  for (const char* bad :
       {"\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xE0\x9F\xBF", "\xF0\x80\x80\x80",
        "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\x80", "\xBF"}) {
    EXPECT_FALSE(dfa.Matches(bad)) << bad;
  }
  EXPECT_TRUE(dfa.Matches("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(RxTest, ExceptRemovesExactlyTheExcludedValues) {
  const std::vector<CodepointRange> excluded = {
      {'"', '"'}, {'\\', '\\'}, {0, 0x1F}, {0x7FF, 0x800}, {0xFFFF, 0x10000}};
  const ByteDfa dfa = MustCompile(RxCodepointsExcept(excluded));
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (IsSurrogate(cp)) continue;
    if (cp > 0x11000 && cp < 0x10F000 && cp % 97 != 0) continue;  // sample the middle
    ASSERT_EQ(dfa.Matches(Utf8(cp)), !InRanges(excluded, cp)) << std::hex << cp;
  }
}

TEST(RxTest, RandomRangeSetsMatchTheirMembers) {
  std::mt19937 rng(14);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<CodepointRange> ranges;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      const uint32_t lo = rng() % 0x110000;
      const uint32_t len = rng() % 3 == 0 ? rng() % 0x20000 : rng() % 300;
      ranges.push_back({lo, std::min<uint32_t>(0x10FFFF, lo + len)});
    }
    const ByteDfa dfa = MustCompile(RxCodepoints(ranges));
    for (const CodepointRange& r : ranges) {
      // Both ends, their neighbours, and a few inside.
      for (uint32_t cp :
           {r.lo, r.hi, r.lo - 1, r.hi + 1, r.lo + (r.hi - r.lo) / 2, r.lo + (r.hi - r.lo) / 3}) {
        if (cp > 0x10FFFF || IsSurrogate(cp)) continue;
        EXPECT_EQ(dfa.Matches(Utf8(cp)), InRanges(ranges, cp)) << std::hex << cp;
      }
    }
    for (int i = 0; i < 2000; ++i) {
      const uint32_t cp = rng() % 0x110000;
      if (IsSurrogate(cp)) continue;
      EXPECT_EQ(dfa.Matches(Utf8(cp)), InRanges(ranges, cp)) << std::hex << cp;
    }
  }
}

}  // namespace
}  // namespace sg::rx_test
