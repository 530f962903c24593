// Internal to the JSON Schema compiler (json_schema.cc): the lexical pieces of a JSON text as Rx
// trees -- string characters, canonical integers in a range, numbers whose every value stays
// inside integer bounds, the string formats, and the rewriting of a pattern's language (raw UTF-8
// characters) into the bytes of a JSON string body. Each piece keeps the FAIL CLOSED contract of
// json_schema.h: it matches only texts that JSON.parse reads back as a value meeting the
// constraint (in IEEE doubles, as JavaScript validators such as ajv see them).
//
// Thread rules: pure functions; any thread.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/constrain/rx.h"

namespace sg::json_lex {

// Integers are generated with at most 15 digits: every such value is exact in a double, so a
// bound compares the same in the text and in the validator. Larger bounds are clamped to this.
inline constexpr int64_t kMaxIntegerMagnitude = 999'999'999'999'999;
// A number with a fraction has an integer part below 2^30 and at most 6 fraction digits: then
// k.999999 stays below k + 1 after rounding to a double (its spacing there is 2^-23), so an
// exclusive bound k + 1 holds in the validator too.
inline constexpr int64_t kMaxFractionIntegerPart = 999'999'999;
inline constexpr int32_t kMaxFractionDigits = 6;

// One character of a JSON string body: any scalar value except '"', '\' and controls below 0x20
// as raw UTF-8, or an escape \" \\ \/ \b \f \n \r \t, and with `unicode_escapes` \uXXXX where XXXX
// is not a surrogate (a lone surrogate is not a character; pairs are not generated). Each
// alternative is one code point, as JSON Schema (and ajv's ucs2length) counts string length.
// \uXXXX costs 5 of the 14 DFA states of a counted character position, so strings with a
// maxLength (JsonStringRx with a bound) are generated without it.
Rx JsonCharRx(bool unicode_escapes = true);

// Canonical decimal text (no leading zeros, no "-0") of every integer in [lo, hi]; Nothing when
// lo > hi. |lo|, |hi| <= kMaxIntegerMagnitude.
Rx IntegerRangeRx(int64_t lo, int64_t hi);

// Bounds of a number schema in integer terms, all inclusive. Generated: the integers in
// int_lo..int_hi written without a fraction; k.ddd (k >= 0, 1..kMaxFractionDigits digits) for
// int_lo <= k <= frac_hi; and -k.ddd for -int_hi <= k <= -frac_lo. The caller sets frac_hi to the
// largest k whose k + 1 still meets the upper bound (M - 1 for maximum M, X - 1 for
// exclusiveMaximum X) and frac_lo to m + 1 for minimum m, Y + 1 for exclusiveMinimum Y, so every
// fraction lies strictly inside (k, k + 1) and within the bounds.
struct NumberBounds {
  int64_t int_lo = -kMaxIntegerMagnitude;
  int64_t int_hi = kMaxIntegerMagnitude;
  int64_t frac_lo = -kMaxIntegerMagnitude;
  int64_t frac_hi = kMaxIntegerMagnitude;
};
// Numbers without an exponent whose every value lies within `b`.
Rx BoundedNumberRx(const NumberBounds& b);
// Any finite JSON number: -?(0|[1-9][0-9]{0,14})(\.[0-9]+)?([eE][+-]?[0-9]{1,2})? (the exponent
// and digit counts keep the value finite; JSON.parse of 1e400 is Infinity, which is no number).
Rx UnboundedNumberRx();

// A JSON array of min..max elements (max may be kRxUnbounded), each matching `element`:
//   "[" ws (element ("," ws element)* ws)? "]"
Rx JsonArrayRx(const Rx& element, int32_t min, int32_t max);
// A JSON object of 0..max_entries members (max may be kRxUnbounded) with any string keys, each
// value matching `value`. Keys may repeat: JSON.parse keeps the last, which also matches `value`.
Rx JsonMapRx(const Rx& value, int32_t max_entries);

// The characters (raw, unescaped; all ASCII) of a string in `format`, or nullptr when the format
// is not supported: date, time, date-time, uuid, email (see json_schema.cc for the subsets).
Rx FormatContentRx(std::string_view format);

// Rewrites a language of raw UTF-8 text (a pattern's) into JSON string body bytes: '"', '\' and
// controls become their escapes, everything else stays. Nullptr when the tree is deeper than the
// rewriting allows (the pattern parser caps nesting well below that).
Rx JsonEscapeContent(const Rx& content);

// The language of `content` (raw UTF-8 text) restricted to texts of lo..hi characters (hi may be
// kRxUnbounded). Exact for the shapes where that is possible (repeats of fixed-length pieces,
// concats with one variable part, alternations of those); otherwise, when every text already
// has lo characters, a sub-language within hi (the spare length shared among the variable parts,
// repeats kept to their minimum count); nullptr when neither applies. Repeat maxima above 1000
// that a huge hi would need are lowered to 1000 (a subset).
Rx IntersectCharLength(const Rx& content, int64_t lo, int64_t hi);

}  // namespace sg::json_lex
