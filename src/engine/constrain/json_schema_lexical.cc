// The lexical pieces of JSON texts for the JSON Schema compiler: whitespace, string characters,
// integer ranges, bounded and unbounded numbers, formats, any-value trees, and the rewriting of a
// pattern's raw text language into JSON string bytes (with its length intersection).
//
// Formats (subsets of what ajv-formats' "full" mode accepts, so both its 2.x and 3.x versions and
// both time-zone modes accept every generated string):
//   date       YYYY-MM-DD; month 01-12; day 01-28 in February, 01-30 in April, June, September,
//              November, 01-31 otherwise (valid in every year, leap or not).
//   time       HH:MM:SS with HH 00-23, MM and SS 00-59 (no leap second), an optional fraction of
//              1-9 digits, and ALWAYS a time zone: Z or +HH:MM / -HH:MM (HH 00-23, MM 00-59).
//   date-time  date "T" time.
//   uuid       8-4-4-4-12 hexadecimal digits (either case; no "urn:uuid:" prefix).
//   email      local part: atoms of [A-Za-z0-9_%+-] separated by single dots; domain: one or more
//              labels [A-Za-z0-9] with inner hyphens, each followed by a dot, then a top-level
//              label of 2+ letters.
#include "engine/constrain/json_schema_lexical.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/constrain/json_schema.h"

namespace sg {

Rx JsonWhitespace() { return RxOptional(RxByte(' ')); }

Rx JsonStringRx(int32_t min_chars, int32_t max_chars) {
  const Rx quote = RxByte('"');
  const bool bounded = max_chars != kRxUnbounded;
  return RxConcat(
      {quote, RxRepeat(json_lex::JsonCharRx(/*unicode_escapes=*/!bounded), min_chars, max_chars),
       quote});
}

Rx JsonAnyValueRx(int32_t max_depth) {
  const Rx scalar = RxAlt({RxLiteral("null"), RxLiteral("true"), RxLiteral("false"),
                           json_lex::UnboundedNumberRx(), JsonStringRx(0, kRxUnbounded)});
  Rx value = scalar;
  for (int32_t d = 0; d < max_depth; ++d) {
    value = RxAlt({scalar, json_lex::JsonArrayRx(value, 0, kRxUnbounded),
                   json_lex::JsonMapRx(value, kRxUnbounded)});
  }
  return value;
}

namespace json_lex {
namespace {

Rx Digit() { return RxByteRange('0', '9'); }

Rx HexDigit() {
  std::bitset<256> set;
  for (int c = '0'; c <= '9'; ++c) set.set(c);
  for (int c = 'a'; c <= 'f'; ++c) set.set(c);
  for (int c = 'A'; c <= 'F'; ++c) set.set(c);
  return RxByteSet(set);
}

Rx ByteSetOf(std::string_view chars) {
  std::bitset<256> set;
  for (char c : chars) set.set(static_cast<uint8_t>(c));
  return RxByteSet(set);
}

Rx Ranges(std::initializer_list<std::pair<char, char>> ranges) {
  std::bitset<256> set;
  for (auto [lo, hi] : ranges) {
    for (int c = static_cast<uint8_t>(lo); c <= static_cast<uint8_t>(hi); ++c) set.set(c);
  }
  return RxByteSet(set);
}

// Digit strings of equal length n: every string s with a <= s <= b (numerically = lexically).
Rx SameLengthRange(const std::string& a, const std::string& b) {
  const size_t n = a.size();
  if (n == 0) return RxEmpty();
  if (a == b) return RxLiteral(a);
  if (a[0] == b[0]) return RxConcat({RxByte(a[0]), SameLengthRange(a.substr(1), b.substr(1))});
  const std::string zeros(n - 1, '0'), nines(n - 1, '9');
  const std::string a_rest = a.substr(1), b_rest = b.substr(1);
  std::vector<Rx> options;
  char mid_lo = a[0], mid_hi = b[0];
  if (a_rest != zeros) {
    options.push_back(RxConcat({RxByte(a[0]), SameLengthRange(a_rest, nines)}));
    ++mid_lo;
  }
  if (b_rest != nines) {
    options.push_back(RxConcat({RxByte(b[0]), SameLengthRange(zeros, b_rest)}));
    --mid_hi;
  }
  if (mid_lo <= mid_hi) {
    options.push_back(
        RxConcat({RxByteRange(mid_lo, mid_hi),
                  RxRepeat(Digit(), static_cast<int32_t>(n - 1), static_cast<int32_t>(n - 1))}));
  }
  return RxAlt(std::move(options));
}

// Canonical decimal strings of lo..hi, 0 <= lo <= hi.
Rx UnsignedRangeRx(int64_t lo, int64_t hi) {
  std::vector<Rx> options;
  int64_t length_lo = 0;  // smallest value with `digits` digits
  int64_t length_hi = 9;  // largest
  for (int digits = 1; digits <= 18; ++digits) {
    const int64_t a = std::max(lo, length_lo), b = std::min(hi, length_hi);
    if (a <= b) options.push_back(SameLengthRange(std::to_string(a), std::to_string(b)));
    length_lo = length_hi + 1;
    length_hi = length_hi * 10 + 9;
    if (length_lo > hi) break;
  }
  return RxAlt(std::move(options));
}

Rx FractionRx() { return RxConcat({RxByte('.'), RxRepeat(Digit(), 1, kMaxFractionDigits)}); }

Rx Between(char lo_tens, char hi_tens, char ones_hi) {
  return RxConcat({RxByteRange(lo_tens, hi_tens), RxByteRange('0', ones_hi)});
}

Rx DateRx() {
  const Rx dash = RxByte('-');
  const Rx day_1_28 =
      RxAlt({RxConcat({RxByte('0'), RxByteRange('1', '9')}), RxConcat({RxByte('1'), Digit()}),
             RxConcat({RxByte('2'), RxByteRange('0', '8')})});
  const Rx day_1_29 = RxAlt({day_1_28, RxLiteral("29")});
  const Rx day_1_30 = RxAlt({day_1_29, RxLiteral("30")});
  const Rx day_1_31 = RxAlt({day_1_30, RxLiteral("31")});
  const Rx long_months =
      RxAlt({RxConcat({RxByte('0'), ByteSetOf("13578")}), RxLiteral("10"), RxLiteral("12")});
  const Rx short_months = RxAlt({RxConcat({RxByte('0'), ByteSetOf("469")}), RxLiteral("11")});
  const Rx month_day =
      RxAlt({RxConcat({long_months, dash, day_1_31}), RxConcat({short_months, dash, day_1_30}),
             RxConcat({RxLiteral("02"), dash, day_1_28})});
  return RxConcat({RxRepeat(Digit(), 4, 4), dash, month_day});
}

Rx TimeRx() {
  const Rx colon = RxByte(':');
  const Rx hour = RxAlt({Between('0', '1', '9'), RxConcat({RxByte('2'), RxByteRange('0', '3')})});
  const Rx minute = Between('0', '5', '9');
  const Rx fraction = RxOptional(RxConcat({RxByte('.'), RxRepeat(Digit(), 1, 9)}));
  const Rx zone = RxAlt({RxByte('Z'), RxConcat({ByteSetOf("+-"), hour, colon, minute})});
  return RxConcat({hour, colon, minute, colon, minute, fraction, zone});
}

Rx UuidRx() {
  const Rx dash = RxByte('-');
  const Rx quad = RxRepeat(HexDigit(), 4, 4);
  return RxConcat({RxRepeat(HexDigit(), 8, 8), dash, quad, dash, quad, dash, quad, dash,
                   RxRepeat(HexDigit(), 12, 12)});
}

Rx EmailRx() {
  const Rx atom = RxPlus(
      Ranges({{'A', 'Z'}, {'a', 'z'}, {'0', '9'}, {'_', '_'}, {'%', '%'}, {'+', '+'}, {'-', '-'}}));
  const Rx dot = RxByte('.');
  const Rx local = RxConcat({atom, RxStar(RxConcat({dot, atom}))});
  const Rx alnum = Ranges({{'A', 'Z'}, {'a', 'z'}, {'0', '9'}});
  const Rx label = RxConcat(
      {alnum, RxOptional(RxConcat(
                  {RxStar(Ranges({{'A', 'Z'}, {'a', 'z'}, {'0', '9'}, {'-', '-'}})), alnum}))});
  const Rx tld = RxRepeat(Ranges({{'A', 'Z'}, {'a', 'z'}}), 2, kRxUnbounded);
  return RxConcat({local, RxByte('@'), RxPlus(RxConcat({label, dot})), tld});
}

// ---- Rewriting a raw text language into JSON string bytes ----

constexpr int kMaxRewriteDepth = 2000;

class Escaper {
 public:
  Rx Rewrite(const Rx& rx, int depth) {
    if (depth > kMaxRewriteDepth) return nullptr;
    auto it = memo_.find(rx.get());
    if (it != memo_.end()) return it->second;
    Rx out;
    switch (rx->kind) {
      case RxKind::kEmpty:
      case RxKind::kNothing:
        out = rx;
        break;
      case RxKind::kByteSet:
        out = RewriteSet(rx->bytes);
        break;
      case RxKind::kConcat:
      case RxKind::kAlt: {
        std::vector<Rx> children;
        children.reserve(rx->children.size());
        for (const Rx& child : rx->children) {
          Rx c = Rewrite(child, depth + 1);
          if (c == nullptr) return nullptr;
          children.push_back(std::move(c));
        }
        out = rx->kind == RxKind::kConcat ? RxConcat(std::move(children))
                                          : RxAlt(std::move(children));
        break;
      }
      case RxKind::kRepeat: {
        Rx c = Rewrite(rx->children[0], depth + 1);
        if (c == nullptr) return nullptr;
        out = RxRepeat(std::move(c), rx->min, rx->max);
        break;
      }
    }
    memo_.emplace(rx.get(), out);
    return out;
  }

 private:
  // An ASCII byte in a valid UTF-8 language is always a whole character, so replacing the byte by
  // its escape maps each text to exactly its JSON encoding.
  static Rx RewriteSet(const std::bitset<256>& bytes) {
    std::bitset<256> plain = bytes;
    std::vector<Rx> escapes;
    for (int b = 0; b < 0x20; ++b) {
      if (!bytes.test(b)) continue;
      plain.reset(b);
      escapes.push_back(RxLiteral(EscapeOf(static_cast<uint8_t>(b))));
    }
    for (uint8_t b : {uint8_t{'"'}, uint8_t{'\\'}}) {
      if (!bytes.test(b)) continue;
      plain.reset(b);
      escapes.push_back(RxLiteral(EscapeOf(b)));
    }
    if (escapes.empty()) return RxByteSet(bytes);
    escapes.push_back(RxByteSet(plain));
    return RxAlt(std::move(escapes));
  }

  static std::string EscapeOf(uint8_t b) {
    switch (b) {
      case '"':
        return "\\\"";
      case '\\':
        return "\\\\";
      case '\b':
        return "\\b";
      case '\f':
        return "\\f";
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\t':
        return "\\t";
      default: {
        static const char kHex[] = "0123456789abcdef";
        return std::string("\\u00") + kHex[b >> 4] + kHex[b & 15];
      }
    }
  }

  std::unordered_map<const RxNode*, Rx> memo_;  // keys are nodes of the input tree: alive
};

// ---- Character lengths ----

constexpr int64_t kInfinite = -1;
constexpr int64_t kLengthCap = int64_t{1} << 40;  // saturate products of repeat counts

struct CharLength {
  bool ok = true;  // false: a byte set mixes continuation bytes with others
  int64_t min = 0;
  int64_t max = 0;  // kInfinite: unbounded
  bool fixed() const { return ok && max == min; }
};

class LengthIntersector {
 public:
  CharLength Length(const Rx& rx, int depth) {
    if (depth > kMaxRewriteDepth) return {false, 0, 0};
    auto it = memo_.find(rx.get());
    if (it != memo_.end()) return it->second.second;
    CharLength out;
    switch (rx->kind) {
      case RxKind::kEmpty:
      case RxKind::kNothing:
        break;
      case RxKind::kByteSet: {
        // Continuation bytes 0x80-0xBF add no character; every other byte starts one.
        bool cont = false, other = false;
        for (int b = 0; b < 256; ++b) {
          if (!rx->bytes.test(b)) continue;
          ((b & 0xC0) == 0x80 ? cont : other) = true;
        }
        out = cont && other ? CharLength{false, 0, 0} : CharLength{true, other ? 1 : 0, other};
        break;
      }
      case RxKind::kConcat:
        for (const Rx& child : rx->children) {
          const CharLength c = Length(child, depth + 1);
          if (!c.ok) return Remember(rx, {false, 0, 0});
          out.min = std::min(kLengthCap, out.min + c.min);
          out.max = (out.max == kInfinite || c.max == kInfinite)
                        ? kInfinite
                        : std::min(kLengthCap, out.max + c.max);
        }
        break;
      case RxKind::kAlt:
        for (size_t i = 0; i < rx->children.size(); ++i) {
          const CharLength c = Length(rx->children[i], depth + 1);
          if (!c.ok) return Remember(rx, {false, 0, 0});
          if (i == 0) {
            out = c;
            continue;
          }
          out.min = std::min(out.min, c.min);
          out.max =
              (out.max == kInfinite || c.max == kInfinite) ? kInfinite : std::max(out.max, c.max);
        }
        break;
      case RxKind::kRepeat: {
        const CharLength c = Length(rx->children[0], depth + 1);
        if (!c.ok) return Remember(rx, {false, 0, 0});
        out.min = std::min(kLengthCap, c.min * rx->min);
        if (c.max == 0) {
          out.max = 0;
        } else if (c.max == kInfinite || rx->max == kRxUnbounded) {
          out.max = kInfinite;
        } else {
          out.max = std::min(kLengthCap, c.max * rx->max);
        }
        break;
      }
    }
    return Remember(rx, out);
  }

  // nullptr: a shape this cannot intersect exactly.
  Rx Intersect(const Rx& rx, int64_t lo, int64_t hi, int depth) {
    if (depth > kMaxRewriteDepth || ++steps_ > kMaxSteps) return nullptr;
    const CharLength len = Length(rx, depth);
    if (!len.ok) return nullptr;
    const bool below_hi = hi == kInfinite || (len.max != kInfinite && len.max <= hi);
    if (len.min >= lo && below_hi) return rx;
    if ((hi != kInfinite && len.min > hi) || (len.max != kInfinite && len.max < lo)) {
      return RxNothing();
    }
    switch (rx->kind) {
      case RxKind::kAlt: {
        std::vector<Rx> options;
        for (const Rx& child : rx->children) {
          Rx c = Intersect(child, lo, hi, depth + 1);
          if (c == nullptr) return nullptr;
          options.push_back(std::move(c));
        }
        return RxAlt(std::move(options));
      }
      case RxKind::kConcat:
        return IntersectConcat(rx, lo, hi, depth);
      case RxKind::kRepeat:
        return IntersectRepeat(rx, lo, hi, depth);
      default:
        return nullptr;  // fixed-length nodes were decided above
    }
  }

  // A sub-language of `rx` whose texts have at most `hi` characters, keeping its shortest ones:
  // a concatenation shares the spare length among its variable parts, a repeat keeps its
  // minimum count (at least 1) and caps each copy. nullptr where a copy cannot fit.
  Rx Cap(const Rx& rx, int64_t hi, int depth) {
    if (depth > kMaxRewriteDepth || ++steps_ > kMaxSteps) return nullptr;
    const CharLength len = Length(rx, depth);
    if (!len.ok) return nullptr;
    if (len.max != kInfinite && len.max <= hi) return rx;
    if (len.min > hi) return RxNothing();
    switch (rx->kind) {
      case RxKind::kAlt: {
        std::vector<Rx> options;
        for (const Rx& child : rx->children) {
          Rx c = Cap(child, hi, depth + 1);
          if (c == nullptr) return nullptr;
          options.push_back(std::move(c));
        }
        return RxAlt(std::move(options));
      }
      case RxKind::kConcat: {
        int64_t spare = hi, variable = 0;
        for (const Rx& child : rx->children) {
          const CharLength c = Length(child, depth + 1);
          spare -= c.min;
          variable += c.fixed() ? 0 : 1;
        }
        std::vector<Rx> parts;
        for (const Rx& child : rx->children) {
          const CharLength c = Length(child, depth + 1);
          if (c.fixed()) {
            parts.push_back(child);
            continue;
          }
          Rx p = Cap(child, c.min + spare / variable, depth + 1);
          if (p == nullptr) return nullptr;
          parts.push_back(std::move(p));
        }
        return RxConcat(std::move(parts));
      }
      case RxKind::kRepeat: {
        const Rx& child = rx->children[0];
        const CharLength c = Length(child, depth + 1);
        int64_t count = std::max<int64_t>(rx->min, 1);
        if (rx->max != kRxUnbounded) count = std::min<int64_t>(count, rx->max);
        if (count == 0) return RxEmpty();
        if (c.fixed()) return Intersect(rx, 0, hi, depth + 1);
        Rx each = Cap(child, hi / count, depth + 1);
        if (each == nullptr) return nullptr;
        if (each->kind == RxKind::kNothing) return rx->min == 0 ? RxEmpty() : RxNothing();
        return RxRepeat(each, rx->min, static_cast<int32_t>(count));
      }
      default:
        return nullptr;
    }
  }

 private:
  static constexpr int64_t kMaxSteps = 20000;

  CharLength Remember(const Rx& rx, CharLength len) {
    memo_.emplace(rx.get(), std::make_pair(rx, len));
    return len;
  }

  static int64_t Sub(int64_t bound, int64_t fixed) {
    return bound == kInfinite ? kInfinite : bound - fixed;
  }

  Rx IntersectConcat(const Rx& rx, int64_t lo, int64_t hi, int depth) {
    int64_t fixed = 0;
    std::vector<size_t> variable;
    for (size_t i = 0; i < rx->children.size(); ++i) {
      const CharLength c = Length(rx->children[i], depth + 1);
      if (c.fixed()) {
        fixed += c.min;
      } else {
        variable.push_back(i);
      }
    }
    if (variable.size() == 1) {
      std::vector<Rx> parts = rx->children;
      Rx v = Intersect(parts[variable[0]], lo - fixed, Sub(hi, fixed), depth + 1);
      if (v == nullptr) return nullptr;
      parts[variable[0]] = std::move(v);
      return RxConcat(std::move(parts));
    }
    // Several variable parts: distribute over the first that is an alternation (or an optional
    // part, an alternation of nothing and itself), so each option has one variable part fewer.
    for (size_t i : variable) {
      const Rx& child = rx->children[i];
      std::vector<Rx> choices;
      if (child->kind == RxKind::kAlt) {
        choices = child->children;
      } else if (child->kind == RxKind::kRepeat && child->min == 0 && child->max == 1) {
        choices = {RxEmpty(), child->children[0]};
      } else {
        continue;
      }
      std::vector<Rx> options;
      for (const Rx& choice : choices) {
        std::vector<Rx> parts = rx->children;
        parts[i] = choice;
        Rx c = Intersect(RxConcat(std::move(parts)), lo, hi, depth + 1);
        if (c == nullptr) return nullptr;
        options.push_back(std::move(c));
      }
      return RxAlt(std::move(options));
    }
    return nullptr;
  }

  Rx IntersectRepeat(const Rx& rx, int64_t lo, int64_t hi, int depth) {
    const Rx& child = rx->children[0];
    const CharLength c = Length(child, depth + 1);
    if (c.fixed() && c.min > 0) {
      const int64_t per = c.min;
      int64_t count_lo = std::max<int64_t>(rx->min, lo <= 0 ? 0 : (lo + per - 1) / per);
      int64_t count_hi = rx->max == kRxUnbounded ? kInfinite : rx->max;
      if (hi != kInfinite)
        count_hi = count_hi == kInfinite ? hi / per : std::min(count_hi, hi / per);
      if (count_hi != kInfinite && count_lo > count_hi) return RxNothing();
      if (count_lo > kMaxRepeatCount) return nullptr;
      // A maximum this large (from a huge maxLength) is lowered: fewer repeats stay valid.
      if (count_hi != kInfinite) count_hi = std::min(count_hi, std::max(count_lo, kMaxRepeatCount));
      return RxRepeat(child, static_cast<int32_t>(count_lo),
                      count_hi == kInfinite ? kRxUnbounded : static_cast<int32_t>(count_hi));
    }
    if (rx->min == 0 && rx->max == 1) {
      Rx inner = Intersect(child, lo, hi, depth + 1);
      if (inner == nullptr) return nullptr;
      return RxAlt({lo <= 0 ? RxEmpty() : RxNothing(), inner});
    }
    return nullptr;
  }

  static constexpr int64_t kMaxRepeatCount = 1000;  // the regex parser's own limit
  // Keyed by node address; the Rx is held so that a temporary node built while intersecting can
  // never be freed and its address reused by another (a stale length would be unsound).
  std::unordered_map<const RxNode*, std::pair<Rx, CharLength>> memo_;
  int64_t steps_ = 0;
};

Rx MakeJsonChar(bool unicode_escapes) {
  const CodepointRange excluded[] = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
  const Rx hex = HexDigit();
  // \uXXXX without D800-DFFF: a first digit other than D, or D followed by 0-7.
  const Rx unicode =
      RxAlt({RxConcat({Ranges({{'0', '9'}, {'a', 'c'}, {'A', 'C'}, {'e', 'f'}, {'E', 'F'}}), hex,
                       hex, hex}),
             RxConcat({ByteSetOf("dD"), RxByteRange('0', '7'), hex, hex})});
  const Rx simple = ByteSetOf("\"\\/bfnrt");
  const Rx escape = RxConcat(
      {RxByte('\\'), unicode_escapes ? RxAlt({simple, RxConcat({RxByte('u'), unicode})}) : simple});
  return RxAlt({RxCodepointsExcept(excluded), escape});
}

}  // namespace

Rx JsonCharRx(bool unicode_escapes) {
  static const Rx* const kChars[2] = {
      new Rx(MakeJsonChar(false)),
      new Rx(MakeJsonChar(true)),
  };
  return *kChars[unicode_escapes ? 1 : 0];
}

Rx IntegerRangeRx(int64_t lo, int64_t hi) {
  if (lo > hi) return RxNothing();
  if (lo >= 0) return UnsignedRangeRx(lo, hi);
  if (hi < 0) return RxConcat({RxByte('-'), UnsignedRangeRx(-hi, -lo)});
  return RxAlt({RxConcat({RxByte('-'), UnsignedRangeRx(1, -lo)}), UnsignedRangeRx(0, hi)});
}

Rx BoundedNumberRx(const NumberBounds& b) {
  std::vector<Rx> options = {IntegerRangeRx(b.int_lo, b.int_hi)};
  const int64_t pos_lo = std::max<int64_t>(b.int_lo, 0);
  const int64_t pos_hi = std::min(b.frac_hi, kMaxFractionIntegerPart);
  if (pos_lo <= pos_hi)
    options.push_back(RxConcat({UnsignedRangeRx(pos_lo, pos_hi), FractionRx()}));
  const int64_t neg_lo = std::max<int64_t>(-b.int_hi, 0);
  const int64_t neg_hi = std::min(-b.frac_lo, kMaxFractionIntegerPart);
  if (neg_lo <= neg_hi) {
    options.push_back(RxConcat({RxByte('-'), UnsignedRangeRx(neg_lo, neg_hi), FractionRx()}));
  }
  return RxAlt(std::move(options));
}

Rx UnboundedNumberRx() {
  const Rx integer =
      RxAlt({RxByte('0'), RxConcat({RxByteRange('1', '9'), RxRepeat(Digit(), 0, 14)})});
  const Rx fraction = RxConcat({RxByte('.'), RxPlus(Digit())});
  const Rx exponent =
      RxConcat({ByteSetOf("eE"), RxOptional(ByteSetOf("+-")), RxRepeat(Digit(), 1, 2)});
  return RxConcat({RxOptional(RxByte('-')), integer, RxOptional(fraction), RxOptional(exponent)});
}

Rx JsonArrayRx(const Rx& element, int32_t min, int32_t max) {
  const Rx ws = JsonWhitespace();
  if (max == 0) return RxConcat({RxByte('['), ws, RxByte(']')});
  const Rx rest = RxRepeat(RxConcat({RxByte(','), ws, element}), std::max(min - 1, 0),
                           max == kRxUnbounded ? kRxUnbounded : max - 1);
  const Rx body = RxConcat({element, rest, ws});
  return RxConcat({RxByte('['), ws, min == 0 ? RxOptional(body) : body, RxByte(']')});
}

Rx JsonMapRx(const Rx& value, int32_t max_entries) {
  const Rx ws = JsonWhitespace();
  if (max_entries == 0) return RxConcat({RxByte('{'), ws, RxByte('}')});
  const Rx member = RxConcat({JsonStringRx(0, kRxUnbounded), RxByte(':'), ws, value});
  const Rx rest = RxRepeat(RxConcat({RxByte(','), ws, member}), 0,
                           max_entries == kRxUnbounded ? kRxUnbounded : max_entries - 1);
  return RxConcat({RxByte('{'), ws, RxOptional(RxConcat({member, rest, ws})), RxByte('}')});
}

Rx FormatContentRx(std::string_view format) {
  if (format == "date") return DateRx();
  if (format == "time") return TimeRx();
  if (format == "date-time") return RxConcat({DateRx(), RxByte('T'), TimeRx()});
  if (format == "uuid") return UuidRx();
  if (format == "email") return EmailRx();
  return nullptr;
}

Rx JsonEscapeContent(const Rx& content) { return Escaper().Rewrite(content, 0); }

Rx IntersectCharLength(const Rx& content, int64_t lo, int64_t hi) {
  LengthIntersector intersector;
  const int64_t upper = hi == kRxUnbounded ? kInfinite : hi;
  Rx exact = intersector.Intersect(content, lo, upper, 0);
  if (exact != nullptr || upper == kInfinite) return exact;
  // Only a maximum left to apply (every text already has lo characters): a capped sub-language.
  const CharLength len = intersector.Length(content, 0);
  if (!len.ok || len.min < lo) return nullptr;
  return intersector.Cap(content, upper, 0);
}

}  // namespace json_lex
}  // namespace sg
