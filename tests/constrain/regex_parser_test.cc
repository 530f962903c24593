// ParseRegex, feature by feature: each pattern against strings that must and must not match as
// a JavaScript RegExp `new RegExp("^(?:" + pattern + ")$", "u")` decides; then every refused
// construct, which must be InvalidArgument with a message naming it.
#include "engine/constrain/regex_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/constrain/byte_dfa.h"

// Own namespace: the test files of this folder are compiled as one unity source.
namespace sg::regex_parser_test {
namespace {

struct Case {
  std::string pattern;
  std::vector<std::string> match;
  std::vector<std::string> no_match;
};

void Check(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    auto rx = ParseRegex(c.pattern);
    ASSERT_TRUE(rx.ok()) << c.pattern << ": " << rx.status().ToString();
    auto dfa = ByteDfa::Compile(*rx);
    ASSERT_TRUE(dfa.ok()) << c.pattern << ": " << dfa.status().ToString();
    for (const std::string& s : c.match) EXPECT_TRUE(dfa->Matches(s)) << c.pattern << " ~ " << s;
    for (const std::string& s : c.no_match) {
      EXPECT_FALSE(dfa->Matches(s)) << c.pattern << " !~ " << s;
    }
  }
}

void ExpectRefused(const std::string& pattern, const std::string& names) {
  auto rx = ParseRegex(pattern);
  ASSERT_FALSE(rx.ok()) << "accepted: " << pattern;
  EXPECT_EQ(rx.status().code(), StatusCode::kInvalidArgument) << pattern;
  EXPECT_NE(rx.status().message().find(names), std::string::npos)
      << pattern << " -> " << rx.status().message() << " (expected to name " << names << ")";
}

TEST(RegexParserTest, LiteralsMatchTheWholeString) {
  Check({{"abc", {"abc"}, {"", "ab", "abcd", "xabc", "ABC"}},
         {"", {""}, {"a"}},
         {"caf\xC3\xA9", {"caf\xC3\xA9"}, {"cafe", "caf\xC3"}},
         {"\xF0\x9F\x98\x80+", {"\xF0\x9F\x98\x80\xF0\x9F\x98\x80"}, {"", "\xF0\x9F\x98"}},
         {"a]b}", {"a]b}"}, {"ab"}},  // lone ] and } are literals (Annex B)
         {"a{x}", {"a{x}"}, {"a"}},   // { that starts no quantifier is a literal
         {"x{1,2", {"x{1,2"}, {"x"}},
         {"{", {"{"}, {""}}});
}

TEST(RegexParserTest, ClassEscapes) {
  Check({{"\\d+", {"0", "0123456789"}, {"", "a", "\xD9\xA0" /* Arabic-Indic 0 */}},
         {"\\D", {"a", "\xE2\x80\xA8", "\xF0\x9F\x98\x80"}, {"5", ""}},
         {"\\w+", {"azAZ09_"}, {"-", "\xC3\xA9", " "}},
         {"\\W", {"-", "\xC3\xA9", " ", "\xF0\x9F\x98\x80"}, {"a", "_", "7"}},
         {"\\s",
          {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80",
           "\xE2\x80\x8A", "\xE2\x80\xA8", "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F",
           "\xE3\x80\x80", "\xEF\xBB\xBF"},
          {"a", "\xE2\x80\x8B" /* U+200B is not a space */, "\xC2\x85" /* U+0085 */}},
         {"\\S", {"a", "\xE2\x80\x8B", "\xF0\x9F\x98\x80"}, {" ", "\xC2\xA0", "\xEF\xBB\xBF"}}});
}

TEST(RegexParserTest, CharacterEscapes) {
  Check(
      {{"\\n\\r\\t\\f\\v", {"\n\r\t\f\v"}, {"nrtfv"}},
       {"\\0", {std::string(1, '\0')}, {"0"}},
       {"\\x41\\xe9", {"A\xC3\xA9"}, {"A\xE9"}},  // \xHH is a code point, not a byte
       {"\\u00e9\\u20AC", {"\xC3\xA9\xE2\x82\xAC"}, {}},
       {"\\u{1F600}\\u{41}",
        {"\xF0\x9F\x98\x80"
         "A"},
        {}},
       {"\\uD83D\\uDE00", {"\xF0\x9F\x98\x80"}, {}},  // a surrogate pair is one code point
       {"\\cJ\\ca", {"\n\x01"}, {}},
       {"\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\\\/\\-\\:\\\"", {".*+?()[]{}|^$\\/-:\""}, {}}});
  // A lone surrogate can never occur in UTF-8 text: the language is empty, not an error.
  auto rx = ParseRegex("\\uD800");
  ASSERT_TRUE(rx.ok());
  EXPECT_EQ((*rx)->kind, RxKind::kNothing);
}

TEST(RegexParserTest, CharacterClasses) {
  Check({{"[abc]", {"a", "b", "c"}, {"d", "", "ab"}},
         {"[a-c]+", {"abcabc"}, {"abd"}},
         {"[^a-c]", {"d", "\xC3\xA9", "\n", "\xF0\x9F\x98\x80"}, {"a", "b", "c", ""}},
         {"[\\d_]+", {"1_2"}, {"a"}},
         {"[\\s]", {" ", "\xE3\x80\x80"}, {"a"}},
         {"[^\\s]", {"a"}, {" ", "\xC2\xA0"}},
         {"[\\w-]+", {"a-b_c"}, {"a b"}},  // - after a class escape at the end is a literal
         {"[-a]", {"-", "a"}, {"b"}},
         {"[a-]", {"-", "a"}, {"b"}},
         {"[--/]", {"-", ".", "/"}, {","}},
         {"[\\]\\\\]", {"]", "\\"}, {"["}},
         {"[\\b]", {"\x08"}, {"b"}},
         {"[]", {}, {"", "a", "]"}},
         {"[]a]", {}, {"a]", "a", "]"}},  // [] (matches nothing) then a then ]
         {"[^]", {"a", "\n", "\xF0\x9F\x98\x80"}, {""}},
         {"[\\u00e0-\\u00ff]", {"\xC3\xA0", "\xC3\xBF"}, {"\xC3\x9F", "\xC4\x80"}},
         {"[\xC3\xA0-\xC3\xBF]", {"\xC3\xA0", "\xC3\xAF"}, {"a"}},
         {"[\\uD800-\\uDFFF]", {}, {"\xED\xA0\x80", "a"}},
         {"[.]", {"."}, {"a"}},
         {"[$^]+", {"$^"}, {"a"}}});
}

TEST(RegexParserTest, DotMatchesAnyScalarButLineTerminators) {
  Check({{".",
          {"a", " ", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\t", "\xC2\x85"},
          {"\n", "\r", "\xE2\x80\xA8", "\xE2\x80\xA9", "", "ab", "\xC3", "\xFF"}}});
}

TEST(RegexParserTest, GroupsAndAlternation) {
  Check({{"(ab)+", {"ab", "abab"}, {"", "aba"}},
         {"(?:ab)+", {"abab"}, {"a"}},
         {"(?<word>ab)+c", {"ababc"}, {"c"}},
         {"(?<caf\xC3\xA9_1$>x)", {"x"}, {""}},
         {"a|b|cd", {"a", "b", "cd"}, {"c", "ab"}},
         {"a|", {"a", ""}, {"aa"}},
         {"|", {""}, {"a"}},
         {"()", {""}, {"a"}},
         {"a(b|c(d|e))f", {"abf", "acdf", "acef"}, {"acf", "af"}},
         {"(a|ab)(c|bcd)(d*)", {"abcd", "acd", "abcdd"}, {"ab"}}});
}

TEST(RegexParserTest, Quantifiers) {
  Check({{"a*", {"", "a", "aaaa"}, {"b"}},
         {"a+", {"a", "aaa"}, {""}},
         {"a?b", {"b", "ab"}, {"aab"}},
         {"a{3}", {"aaa"}, {"aa", "aaaa"}},
         {"a{2,}", {"aa", "aaaaaa"}, {"a"}},
         {"a{2,3}", {"aa", "aaa"}, {"a", "aaaa"}},
         {"a{0}b", {"b"}, {"ab"}},
         {"a{0,0}", {""}, {"a"}},
         {"(ab){1,2}", {"ab", "abab"}, {"ababab"}},
         {"a*?b+?c??d{1,2}?", {"bd", "aabbcdd"}, {"ad"}},  // lazy forms: the same language
         {"x{1000}", {std::string(1000, 'x')}, {std::string(999, 'x')}},
         {"\\d{3}-\\d{4}", {"555-1234"}, {"5551234", "555-123"}}});
}

TEST(RegexParserTest, LeadingAndTrailingAnchorsAreAccepted) {
  Check({{"^abc$", {"abc"}, {"xabc", "abcx"}},
         {"^a|^b$", {"a", "b"}, {"ab"}},
         {"^(a|b)$", {"a", "b"}, {"ab"}},
         {"(^a|b$)", {"a", "b"}, {"ab"}},
         {"(?:^a)b", {"ab"}, {"b"}},
         {"^^a$$", {"a"}, {""}},
         {"a$|b", {"a", "b"}, {"ab"}},
         {"^", {""}, {"a"}},
         {"$", {""}, {"a"}}});
}

TEST(RegexParserTest, RefusesUnsupportedConstructsNamingThem) {
  ExpectRefused("(a)\\1", "backreference \\1");
  ExpectRefused("(?<n>a)\\k<n>", "backreference \\k");
  ExpectRefused("(?=a)a", "lookahead (?=");
  ExpectRefused("a(?!b)", "lookahead (?!");
  ExpectRefused("(?<=a)b", "lookbehind (?<=");
  ExpectRefused("(?<!a)b", "lookbehind (?<!");
  ExpectRefused("\\bword", "\\b");
  ExpectRefused("a\\Bb", "\\B");
  ExpectRefused("a^b", "anchor '^'");
  ExpectRefused("a$b", "anchor '$'");
  ExpectRefused("(a$)b", "anchor '$'");
  ExpectRefused("a(^b)", "anchor '^'");
  ExpectRefused("(^a)*", "anchor inside a quantified group");
  ExpectRefused("(a$){2}", "anchor inside a quantified group");
  ExpectRefused("^*a", "quantifier after the anchor");
  ExpectRefused("(?i)abc", "flags");
  ExpectRefused("(?i:abc)", "flags");
  ExpectRefused("(?P<n>a)", "(?P");
  ExpectRefused("(ab", "missing ')'");
  ExpectRefused("ab)", "unmatched ')'");
  ExpectRefused("[ab", "missing ']'");
  ExpectRefused("*a", "nothing to repeat");
  ExpectRefused("a|+", "nothing to repeat");
  ExpectRefused("(?:*)", "nothing to repeat");
  ExpectRefused("a**", "nothing to repeat");
  ExpectRefused("a{2}{3}", "nothing to repeat");
  ExpectRefused("a*+", "possessive");
  ExpectRefused("a{3,2}", "out of order");
  ExpectRefused("a{1001}", "limit of 1000");
  ExpectRefused("a{2,1001}", "limit of 1000");
  ExpectRefused("a{99999999999999999999}", "limit of 1000");
  ExpectRefused("a{,3}", "ambiguous");
  ExpectRefused("[z-a]", "out of order");
  ExpectRefused("[\\d-z]", "range endpoint");
  ExpectRefused("[a-\\w]", "range endpoint");
  ExpectRefused("\\p{L}", "Unicode property escape \\p");
  ExpectRefused("\\P{L}", "Unicode property escape \\P");
  ExpectRefused("\\a", "unknown escape \\a");
  ExpectRefused("\\07", "octal escape");
  ExpectRefused("\\x4", "\\x escape");
  ExpectRefused("\\xZZ", "\\x escape");
  ExpectRefused("\\u12", "\\u escape");
  ExpectRefused("\\u{110000}", "\\u{");
  ExpectRefused("\\c1", "control escape");
  ExpectRefused("ab\\", "lone backslash");
  ExpectRefused("[[:alpha:]]", "POSIX");
  ExpectRefused("(?<1a>x)", "group name");
  ExpectRefused("(?<ab", "group name");
  ExpectRefused("(?<n\xFF>a)", "UTF-8");
  ExpectRefused("a\xFF", "UTF-8");
  ExpectRefused("\xC3", "UTF-8");
  ExpectRefused("\xED\xA0\x80", "UTF-8");        // an encoded surrogate
  ExpectRefused("\xC0\x80", "UTF-8");            // overlong
  ExpectRefused("[\xF4\x90\x80\x80]", "UTF-8");  // past U+10FFFF
  ExpectRefused(std::string(kMaxRegexLength + 1, 'a'), "longer than 16384");
  ExpectRefused(std::string(10000, '('), "nested deeper than 256");
  ExpectRefused(std::string(257, '(') + "a" + std::string(257, ')'), "nested deeper than 256");
}

TEST(RegexParserTest, NestingUpToTheLimitCompiles) {
  std::string p;
  for (int i = 0; i < 256; ++i) p += "(?:";
  p += "a";
  for (int i = 0; i < 256; ++i) p += ")*";
  auto rx = ParseRegex(p);
  ASSERT_TRUE(rx.ok()) << rx.status().ToString();
  auto dfa = ByteDfa::Compile(*rx);
  ASSERT_TRUE(dfa.ok()) << dfa.status().ToString();
  EXPECT_TRUE(dfa->Matches("aaaa"));
  EXPECT_TRUE(dfa->Matches(""));
  EXPECT_FALSE(dfa->Matches("b"));
  EXPECT_TRUE(ParseRegex(std::string(kMaxRegexLength, 'a')).ok());
}

TEST(RegexParserTest, TypicalSchemaPatterns) {
  Check({{"^[A-Z]{2}-\\d{4}$", {"AB-1234"}, {"ab-1234", "AB-123"}},
         {"^\\+?[1-9]\\d{1,14}$", {"+14155552671", "442071838750"}, {"+0123", "1"}},
         {"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$", {"a.b@c.io"}, {"a@b", "@c.io"}},
         {"^(\\([0-9]{3}\\))?[0-9]{3}-[0-9]{4}$", {"(555)555-1212", "555-1212"}, {"(55)555-1212"}},
         {"^#[0-9a-fA-F]{6}$", {"#00ffAA"}, {"#00ffA", "00ffAA"}}});
}

}  // namespace
}  // namespace sg::regex_parser_test
