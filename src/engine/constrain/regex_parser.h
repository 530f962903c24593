// Parses a regular expression in the ECMAScript (JavaScript RegExp, JSON Schema "pattern") syntax
// into an Rx over the UTF-8 bytes of the matched text. The whole string must match (TGI's regex
// grammar and outlines' semantics): a leading ^ and a trailing $ are accepted and ignored.
//
// Supported: literals (UTF-8 input), escapes \d \D \w \W \s \S \n \r \t \f \v \0 \xHH \uHHHH
// \u{H..} and escaped punctuation; classes [...] with ranges, negation and the escapes above; `.`
// (any scalar value except \n \r U+2028 U+2029, as in JS without the s flag); groups (...), (?:...)
// and (?<name>...); alternation; quantifiers * + ? {n} {n,} {n,m} and their lazy forms (same
// language). Refused with InvalidArgument naming the construct (the error a client sees in a 422):
// backreferences, lookahead/lookbehind, \b \B, anchors other than a leading ^ / trailing $, flags
// groups, unbalanced parentheses or brackets, a quantifier with nothing to repeat, {n,m} with
// n > m, counts over kMaxRegexRepeat, invalid UTF-8 in the pattern, and patterns longer than
// kMaxRegexLength bytes.
//
// Thread rules: pure function; any thread.
#pragma once

#include <string_view>

#include "engine/constrain/rx.h"
#include "engine/core/status.h"

namespace sg {

inline constexpr int32_t kMaxRegexRepeat = 1000;
inline constexpr size_t kMaxRegexLength = 16384;

StatusOr<Rx> ParseRegex(std::string_view pattern);

}  // namespace sg
