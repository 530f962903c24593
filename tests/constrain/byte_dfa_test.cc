// ByteDfa: matching, byte classes (exactly the distinct columns), pruning (every kept state can
// reach acceptance, and the recorded shortest paths get there), the size limits on pathological
// trees (asserted on the Status, never on time), and a differential test against std::regex
// (ECMAScript) on random small patterns over {a, b}.
#include "engine/constrain/byte_dfa.h"

#include <gtest/gtest.h>

#include <random>
#include <regex>
#include <string>
#include <vector>

#include "engine/constrain/regex_parser.h"
#include "engine/constrain/rx.h"

// Own namespace: the test files of this folder are compiled as one unity source.
namespace sg::byte_dfa_test {
namespace {

ByteDfa MustCompile(const Rx& rx, const DfaLimits& limits = {}) {
  auto dfa = ByteDfa::Compile(rx, limits);
  EXPECT_TRUE(dfa.ok()) << dfa.status().ToString();
  return std::move(dfa).value();
}

ByteDfa MustCompileRegex(const std::string& pattern) {
  auto rx = ParseRegex(pattern);
  EXPECT_TRUE(rx.ok()) << pattern << ": " << rx.status().ToString();
  return MustCompile(*rx);
}

// A node built without the constructors' simplifications (to reach NFA shapes they remove).
Rx Raw(RxKind kind, std::vector<Rx> children) {
  RxNode node;
  node.kind = kind;
  node.children = std::move(children);
  return std::make_shared<const RxNode>(std::move(node));
}

// Invariants every compiled DFA must hold.
void CheckInvariants(const ByteDfa& dfa) {
  const int32_t n = dfa.num_states();
  if (dfa.start() == ByteDfa::kDead) {
    EXPECT_EQ(n, 0);
    return;
  }
  ASSERT_GE(dfa.start(), 0);
  ASSERT_LT(dfa.start(), n);
  for (int32_t s = 0; s < n; ++s) {
    bool any = false;
    for (int b = 0; b < 256; ++b) {
      const int32_t t = dfa.Next(s, static_cast<uint8_t>(b));
      ASSERT_TRUE(t == ByteDfa::kDead || (t >= 0 && t < n));
      any = any || t != ByteDfa::kDead;
    }
    EXPECT_EQ(dfa.HasContinuation(s), any);
    // Not a dead end: the shortest path reaches acceptance in MinBytesToAccept steps.
    const int32_t d = dfa.MinBytesToAccept(s);
    ASSERT_GE(d, 0);
    int32_t cur = s;
    for (int32_t i = 0; i < d; ++i) {
      ASSERT_FALSE(dfa.IsAccepting(cur));
      const int32_t b = dfa.ShortestPathByte(cur);
      ASSERT_GE(b, 0);
      ASSERT_LT(b, 256);
      const int32_t next = dfa.Next(cur, static_cast<uint8_t>(b));
      ASSERT_NE(next, ByteDfa::kDead);
      EXPECT_EQ(dfa.MinBytesToAccept(next), d - 1 - i);
      cur = next;
    }
    EXPECT_TRUE(dfa.IsAccepting(cur));
    EXPECT_EQ(dfa.ShortestPathByte(cur), -1);
  }
  // Byte classes are exactly the distinct columns: two bytes of different classes differ in
  // some state.
  std::vector<int> rep(dfa.num_byte_classes(), -1);
  for (int b = 0; b < 256; ++b) {
    bool found = false;
    for (int32_t c = 0; c < dfa.num_byte_classes() && !found; ++c) {
      if (rep[c] < 0) continue;
      bool same = true;
      for (int32_t s = 0; s < n && same; ++s) {
        same = dfa.Next(s, static_cast<uint8_t>(b)) == dfa.Next(s, static_cast<uint8_t>(rep[c]));
      }
      found = same;
    }
    if (!found) {
      for (int32_t c = 0; c < dfa.num_byte_classes(); ++c) {
        if (rep[c] < 0) {
          rep[c] = b;
          break;
        }
      }
    }
  }
  for (int32_t c = 0; c < dfa.num_byte_classes(); ++c) EXPECT_GE(rep[c], 0) << "class " << c;
}

TEST(ByteDfaTest, MatchesLiteralsAndAlternatives) {
  const ByteDfa dfa = MustCompile(RxAlt({RxLiteral("cat"), RxLiteral("car"), RxLiteral("dog")}));
  CheckInvariants(dfa);
  for (const char* s : {"cat", "car", "dog"}) EXPECT_TRUE(dfa.Matches(s)) << s;
  for (const char* s : {"", "ca", "cats", "do", "dot", "xcat"}) EXPECT_FALSE(dfa.Matches(s)) << s;
  EXPECT_EQ(dfa.Walk(dfa.start(), "cx"), ByteDfa::kDead);
  EXPECT_EQ(dfa.Walk(ByteDfa::kDead, ""), ByteDfa::kDead);
  const int32_t ca = dfa.Walk(dfa.start(), "ca");
  ASSERT_NE(ca, ByteDfa::kDead);
  EXPECT_FALSE(dfa.IsAccepting(ca));
  EXPECT_EQ(dfa.MinBytesToAccept(ca), 1);
  EXPECT_EQ(dfa.MinBytesToAccept(dfa.start()), 3);
}

TEST(ByteDfaTest, EmptyStringAndEmptyLanguage) {
  const ByteDfa empty = MustCompile(RxEmpty());
  ASSERT_NE(empty.start(), ByteDfa::kDead);
  EXPECT_TRUE(empty.Matches(""));
  EXPECT_FALSE(empty.Matches("a"));
  EXPECT_TRUE(empty.IsAccepting(empty.start()));
  EXPECT_FALSE(empty.HasContinuation(empty.start()));
  EXPECT_EQ(empty.MinBytesToAccept(empty.start()), 0);
  EXPECT_EQ(empty.num_byte_classes(), 1);

  for (const Rx& rx : {RxNothing(), Raw(RxKind::kConcat, {RxLiteral("ab"), RxNothing()}),
                       Raw(RxKind::kAlt, {RxNothing(), RxNothing()})}) {
    const ByteDfa none = MustCompile(rx);
    EXPECT_EQ(none.start(), ByteDfa::kDead);
    EXPECT_EQ(none.num_states(), 0);
    EXPECT_FALSE(none.Matches(""));
    EXPECT_FALSE(none.Matches("ab"));
  }
}

TEST(ByteDfaTest, PrunesStatesThatCannotAccept) {
  // "abq" followed by nothing: the state after "ab" is a dead end (it still holds the NFA state
  // of 'q'), and so is everything after "x"; "ac" stays.
  const Rx rx =
      Raw(RxKind::kAlt, {Raw(RxKind::kConcat, {RxLiteral("abq"), RxNothing()}), RxLiteral("ac"),
                         Raw(RxKind::kConcat, {RxLiteral("xyz"), RxNothing()})});
  const ByteDfa dfa = MustCompile(rx);
  CheckInvariants(dfa);
  EXPECT_TRUE(dfa.Matches("ac"));
  const int32_t a = dfa.Next(dfa.start(), 'a');
  ASSERT_NE(a, ByteDfa::kDead);
  EXPECT_EQ(dfa.Next(a, 'b'), ByteDfa::kDead);
  EXPECT_EQ(dfa.Next(dfa.start(), 'x'), ByteDfa::kDead);  // the whole branch is gone
  EXPECT_EQ(dfa.num_states(), 3);
}

TEST(ByteDfaTest, ByteClassesAreTheDistinctColumns) {
  EXPECT_EQ(MustCompileRegex("[a-z]+").num_byte_classes(), 2);
  EXPECT_EQ(MustCompileRegex("abc").num_byte_classes(), 4);
  EXPECT_EQ(MustCompileRegex("[a-c]x|[b-d]y").num_byte_classes(), 6);  // a, bc, d, x, y, rest
  for (const char* p : {"[a-z]+", "(ab|cd)*e?", "\\d{3}-\\d{4}", "[^\"\\\\]*", ".{2,5}",
                        "(\\w+\\s)*\\w+", "[\\u0100-\\u1000]|\\u{1F600}"}) {
    CheckInvariants(MustCompileRegex(p));
  }
}

TEST(ByteDfaTest, IsMinimal) {
  // Subset construction alone keeps one state per alternative here; equivalent states merge.
  EXPECT_EQ(MustCompileRegex("ac|bc").num_states(), 3);
  EXPECT_EQ(MustCompileRegex("(ab|cb)+").num_states(), 3);
  EXPECT_EQ(MustCompileRegex("(a|b)*a(a|b){3}").num_states(), 16);
  // Any scalar value: start, accept, 1/2/3 continuation bytes left, and after E0, ED, F0, F4
  // (whose second byte has a narrower range).
  EXPECT_EQ(MustCompile(RxCodepointsExcept({})).num_states(), 9);
  EXPECT_EQ(MustCompile(RxStar(RxCodepointsExcept({}))).num_states(), 8);  // start accepts
}

TEST(ByteDfaTest, FinalStateHasNoContinuation) {
  const ByteDfa dfa = MustCompileRegex("ab?");
  const int32_t ab = dfa.Walk(dfa.start(), "ab");
  ASSERT_NE(ab, ByteDfa::kDead);
  EXPECT_TRUE(dfa.IsAccepting(ab));
  EXPECT_FALSE(dfa.HasContinuation(ab));
  const int32_t a = dfa.Walk(dfa.start(), "a");
  EXPECT_TRUE(dfa.IsAccepting(a));
  EXPECT_TRUE(dfa.HasContinuation(a));
}

TEST(ByteDfaTest, NestedRepeatsOverTheNfaLimitAreRefused) {
  for (const char* p : {"(a{1000}){1000}", "((a|aa){1000}){1000}", "(((a{1000}){1000}){1000})",
                        "(.{1000}){1000}"}) {
    auto rx = ParseRegex(p);
    ASSERT_TRUE(rx.ok()) << p;
    auto dfa = ByteDfa::Compile(*rx);
    ASSERT_FALSE(dfa.ok()) << p;
    EXPECT_EQ(dfa.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(dfa.status().message().find("max_nfa_states"), std::string::npos)
        << dfa.status().message();
  }
  // A 20-level nest of repeats saturates instead of overflowing.
  Rx r = RxByte('a');
  for (int i = 0; i < 20; ++i) r = RxRepeat(r, 999, 1000);
  auto dfa = ByteDfa::Compile(r);
  ASSERT_FALSE(dfa.ok());
  EXPECT_EQ(dfa.status().code(), StatusCode::kResourceExhausted);
}

TEST(ByteDfaTest, DfaBlowupHitsTheStateLimit) {
  auto rx = ParseRegex("(a|b)*a(a|b){20}");  // needs 2^21 states
  ASSERT_TRUE(rx.ok());
  auto dfa = ByteDfa::Compile(*rx);
  ASSERT_FALSE(dfa.ok());
  EXPECT_EQ(dfa.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(dfa.status().message().find("max_dfa_states (20000)"), std::string::npos)
      << dfa.status().message();
  // Within the limit the same shape compiles and is exact.
  auto small = ParseRegex("(a|b)*a(a|b){3}");
  ASSERT_TRUE(small.ok());
  const ByteDfa ok = MustCompile(*small);
  CheckInvariants(ok);
  EXPECT_TRUE(ok.Matches("abbaabb"));
  EXPECT_FALSE(ok.Matches("abbbabb"));
  DfaLimits tight;
  tight.max_dfa_states = 8;
  EXPECT_EQ(ByteDfa::Compile(*small, tight).status().code(), StatusCode::kResourceExhausted);
}

TEST(ByteDfaTest, PathologicalShapesCompileWithinLimits) {
  // Catastrophic-backtracking shapes are linear work for a DFA.
  for (const char* p :
       {"(a|aa)*b", "(a*)*b", "((a*)*)*", "(a+)+b", "(a|a?)+", "(.*)*x(.*)*", "(\\w+\\s?)*$",
        "(x+x+)+y", "(a|b|ab)*c", "([a-e]|[c-h]|[f-k]|[i-n]|[l-q]|[o-t]|[r-w]|[u-z])*z"}) {
    auto rx = ParseRegex(p);
    ASSERT_TRUE(rx.ok()) << p;
    auto dfa = ByteDfa::Compile(*rx);
    ASSERT_TRUE(dfa.ok()) << p << ": " << dfa.status().ToString();
    CheckInvariants(*dfa);
  }
  const ByteDfa dfa = MustCompileRegex("(a|aa)*b");
  EXPECT_TRUE(dfa.Matches(std::string(5000, 'a') + "b"));
  EXPECT_FALSE(dfa.Matches(std::string(5000, 'a')));
}

TEST(ByteDfaTest, LargeInputsAreBoundedByTheLimits) {
  // Each either compiles or fails with ResourceExhausted; none may hang or exhaust memory.
  for (const char* p : {".{1000}", "(.*a.*){50}", "(.|\\s){500}", "[\\u0000-\\u{10FFFF}]{1000}",
                        "(a|b|c|d|e|f|g|h|i|j)*(a|b){8}(c|d){8}", "(\\w{0,40}\\s){0,40}",
                        "(.*,){30}", "(a?){1000}a{1000}"}) {
    auto rx = ParseRegex(p);
    ASSERT_TRUE(rx.ok()) << p;
    auto dfa = ByteDfa::Compile(*rx);
    if (dfa.ok()) {
      EXPECT_LE(dfa->num_states(), DfaLimits{}.max_dfa_states) << p;
    } else {
      EXPECT_EQ(dfa.status().code(), StatusCode::kResourceExhausted) << p;
    }
  }
}

TEST(ByteDfaTest, DeepTreesAreRefusedNotOverflowed) {
  Rx r = RxByte('a');
  for (int i = 0; i < 5000; ++i) r = RxRepeat(RxAlt({r, RxLiteral("bc")}), 0, 1);
  auto dfa = ByteDfa::Compile(r);
  ASSERT_FALSE(dfa.ok());
  EXPECT_EQ(dfa.status().code(), StatusCode::kResourceExhausted);
}

// Random patterns over {a, b} from a small grammar, compared with std::regex_match on every
// string over {a, b} of length <= 6.
class RandomRegex {
 public:
  explicit RandomRegex(uint32_t seed) : rng_(seed) {}

  std::string Alternation(int depth) {
    std::string s = Sequence(depth);
    while (Pick(5) == 0) s += "|" + Sequence(depth);
    return s;
  }

 private:
  std::string Sequence(int depth) {
    std::string s;
    const int n = Pick(4);
    for (int i = 0; i < n; ++i) s += Quantified(depth);
    return s;
  }
  std::string Quantified(int depth) {
    std::string atom = Atom(depth);
    int kind = Pick(12);
    // std::regex backtracks, exponentially on unbounded loops nested in unbounded loops over
    // nullable bodies: a group that holds a group gets a bounded quantifier or none.
    const bool nested = atom[0] == '(' && atom.find('(', 1) != std::string::npos;
    if (nested && (kind == 0 || kind == 1 || kind == 4 || kind == 6)) kind = 2;
    switch (kind) {
      case 0:
        return atom + "*";
      case 1:
        return atom + "+";
      case 2:
        return atom + "?";
      case 3:
        return atom + "{" + std::to_string(Pick(3)) + "}";
      case 4:
        return atom + "{" + std::to_string(Pick(3)) + ",}";
      case 5: {
        const int lo = Pick(3);
        return atom + "{" + std::to_string(lo) + "," + std::to_string(lo + Pick(3)) + "}";
      }
      case 6:
        return atom + "*?";
      default:
        return atom;
    }
  }
  std::string Atom(int depth) {
    const int k = Pick(depth > 0 ? 9 : 7);
    switch (k) {
      case 0:
      case 1:
        return "a";
      case 2:
      case 3:
        return "b";
      case 4:
        return Pick(2) ? "[ab]" : "[^a]";
      case 5:
        return ".";
      case 6:
        return Pick(2) ? "[a]" : "[b-b]";
      default: {
        // Two statements: the order of operands of + is unspecified, and the patterns must be
        // the same whichever compiler built the test.
        const std::string open = Pick(2) ? "(" : "(?:";
        return open + Alternation(depth - 1) + ")";
      }
    }
  }
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  std::mt19937 rng_;
};

TEST(ByteDfaTest, AgreesWithStdRegexOnRandomPatterns) {
  std::vector<std::string> texts = {""};
  for (size_t i = 0; texts[i].size() < 6; ++i) {
    texts.push_back(texts[i] + "a");
    texts.push_back(texts[i] + "b");
  }
  RandomRegex gen(20240614);
  constexpr int kTrials = 1000;
  int refused = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    std::string pattern = gen.Alternation(3);
    if (trial % 4 == 0) pattern = "^" + pattern + "$";  // anchors mean nothing in full matches
    if (trial % 4 == 0 && pattern.find('|') != std::string::npos) {
      pattern = "^(?:" + pattern.substr(1, pattern.size() - 2) + ")$";
    }
    auto rx = ParseRegex(pattern);
    ASSERT_TRUE(rx.ok()) << pattern << ": " << rx.status().ToString();
    auto dfa = ByteDfa::Compile(*rx);
    if (!dfa.ok()) {
      // A few random nests of '.' (a UTF-8 class) repeated in repeats exceed the state limit.
      ASSERT_EQ(dfa.status().code(), StatusCode::kResourceExhausted) << pattern;
      ++refused;
      continue;
    }
    CheckInvariants(*dfa);
    const std::regex re(pattern, std::regex::ECMAScript);
    for (const std::string& text : texts) {
      ASSERT_EQ(dfa->Matches(text), std::regex_match(text, re))
          << "pattern " << pattern << " text \"" << text << "\"";
    }
  }
  EXPECT_LT(refused, kTrials / 50);
}

}  // namespace
}  // namespace sg::byte_dfa_test
