// A recursive-descent parser for the ECMAScript pattern syntax (the Unicode reading: the pattern
// and the text are sequences of scalar values, as with the `u` flag that JSON Schema validators
// such as ajv use), producing an Rx over UTF-8 bytes.
//
// Where JavaScript's legacy (Annex B) grammar and other engines disagree about what a pattern
// means, the pattern is refused rather than guessed: an unknown letter escape (\p, \a), an octal
// escape, `{,n}` (a literal in JS, {0,n} in Python), a class escape as a range endpoint ([\d-z]).
// A lone `]` or `}`, and a `{` that does not start a quantifier, are literals as in Annex B.
//
// Anchors: the match is always the whole string, so `^` is accepted only where nothing can have
// been consumed before it (first in a top-level alternative, or first in a group that is itself
// in such a position) and `$` only where nothing can follow; both then mean nothing. Anchors in a
// quantified group, or anywhere else, are refused.
#include "engine/constrain/regex_parser.h"

#include <algorithm>
#include <string>
#include <vector>

namespace sg {
namespace {

constexpr int kMaxNesting = 256;  // groups inside groups; bounds the parser's recursion
constexpr char kMiddleCaret[] = "anchor '^' in the middle of the pattern is not supported";
constexpr char kMiddleDollar[] = "anchor '$' in the middle of the pattern is not supported";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict UTF-8 decoding of one scalar value at `pos` (no overlongs, surrogates or values past
// 0x10FFFF). Returns its length, or 0 when the bytes there are not valid UTF-8.
int DecodeUtf8(std::string_view s, size_t pos, uint32_t* cp) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(pos);
  int len;
  uint32_t min;
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, *cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, *cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, *cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (pos + len > s.size()) return 0;
  for (int i = 1; i < len; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (byte(pos + i) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

using Ranges = std::vector<CodepointRange>;

const Ranges& DigitRanges() {
  static const Ranges* r = new Ranges{{'0', '9'}};
  return *r;
}
const Ranges& WordRanges() {
  static const Ranges* r = new Ranges{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return *r;
}
// ECMAScript WhiteSpace and LineTerminator: TAB VT FF SP NBSP ZWNBSP, the Zs category, LF CR
// LS PS.
const Ranges& SpaceRanges() {
  static const Ranges* r = new Ranges{
      {0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
      {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
  return *r;
}

Ranges Complement(const Ranges& in) {
  Ranges sorted = in;
  std::sort(sorted.begin(), sorted.end(),
            [](const CodepointRange& a, const CodepointRange& b) { return a.lo < b.lo; });
  Ranges out;
  uint32_t next = 0;
  for (const CodepointRange& r : sorted) {
    if (r.lo > next) out.push_back({next, r.lo - 1});
    next = std::max(next, r.hi + 1);
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}

Rx CodepointRx(uint32_t cp) {
  const CodepointRange r{cp, cp};
  return RxCodepoints(std::span<const CodepointRange>(&r, 1));
}

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  StatusOr<Rx> Parse() {
    Item item;
    SG_RETURN_IF_ERROR(ParseAlternation(0, &item));
    if (pos_ < p_.size()) return Error("unmatched ')'");
    return item.rx;
  }

 private:
  // A parsed piece and the anchors inside it that constrain where it may stand.
  struct Item {
    Rx rx;
    bool needs_start = false;  // contains a ^ that must be at the start of the text
    bool needs_end = false;    // contains a $ that must be at the end of the text
  };
  // One class member: a single scalar value, or a class escape's set (not a range endpoint).
  struct ClassAtom {
    uint32_t cp = 0;
    bool is_set = false;
    Ranges set;
    std::string spelling;  // for errors
  };

  Status Error(const std::string& what) const { return ErrorAt(what, pos_); }
  Status ErrorAt(const std::string& what, size_t at) const {
    return InvalidArgumentError("invalid regex: " + what + " (at offset " + std::to_string(at) +
                                ")");
  }
  // `{,n}`: JavaScript reads a literal, Python and others {0,n}; refused rather than guessed.
  Status AmbiguousBrace() const {
    return Error(
        "'{,' is ambiguous (a literal in JavaScript, {0,n} elsewhere): write {0,n} or \\{");
  }
  bool AtEnd() const { return pos_ >= p_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < p_.size() ? p_[pos_ + ahead] : '\0'; }

  Status ParseAlternation(int depth, Item* out) {
    std::vector<Rx> options;
    for (;;) {
      Item seq;
      SG_RETURN_IF_ERROR(ParseSequence(depth, &seq));
      options.push_back(seq.rx);
      out->needs_start = out->needs_start || seq.needs_start;
      out->needs_end = out->needs_end || seq.needs_end;
      if (Peek() != '|' || AtEnd()) break;
      ++pos_;
    }
    out->rx = RxAlt(std::move(options));
    return OkStatus();
  }

  Status ParseSequence(int depth, Item* out) {
    std::vector<Rx> parts;
    bool consumed = false;  // a non-anchor item came before
    bool ended = false;     // a $ (or an item ending with one) came before
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      const size_t at = pos_;
      const char c = Peek();
      if (c == '^' || c == '$') {
        ++pos_;
        if (IsQuantifierStart()) {
          return Error("quantifier after the anchor '" + std::string(1, c) + "'");
        }
        if (c == '^') {
          if (consumed) {
            return ErrorAt(kMiddleCaret, at);
          }
          out->needs_start = true;
        } else {
          ended = true;
          out->needs_end = true;
        }
        continue;
      }
      if (IsQuantifierStart()) return Error("quantifier with nothing to repeat");
      Item item;
      SG_RETURN_IF_ERROR(ParseAtom(depth, &item));
      SG_RETURN_IF_ERROR(ParseQuantifiers(&item));
      if (ended) {
        return ErrorAt(kMiddleDollar, at);
      }
      if (item.needs_start && consumed) {
        return ErrorAt(kMiddleCaret, at);
      }
      out->needs_start = out->needs_start || item.needs_start;
      if (item.needs_end) {
        ended = true;
        out->needs_end = true;
      }
      consumed = true;
      parts.push_back(std::move(item.rx));
    }
    out->rx = RxConcat(std::move(parts));
    return OkStatus();
  }

  // Whether a quantifier starts at pos_: * + ? or a well-formed {n}, {n,}, {n,m}.
  bool IsQuantifierStart() const {
    const char c = Peek();
    if (c == '*' || c == '+' || c == '?') return true;
    if (c != '{' || AtEnd()) return false;
    size_t i = pos_ + 1;
    if (i >= p_.size() || !IsDigit(p_[i])) return false;
    while (i < p_.size() && IsDigit(p_[i])) ++i;
    if (i < p_.size() && p_[i] == ',') {
      ++i;
      while (i < p_.size() && IsDigit(p_[i])) ++i;
    }
    return i < p_.size() && p_[i] == '}';
  }

  // Reads digits at pos_, saturating just above the repeat limit.
  int32_t ReadCount() {
    int64_t v = 0;
    while (!AtEnd() && IsDigit(Peek())) {
      v = std::min<int64_t>(v * 10 + (Peek() - '0'), int64_t{kMaxRegexRepeat} + 1);
      ++pos_;
    }
    return static_cast<int32_t>(v);
  }

  Status ParseQuantifiers(Item* item) {
    if (Peek() == '{' && Peek(1) == ',') {
      return AmbiguousBrace();
    }
    if (AtEnd() || !IsQuantifierStart()) return OkStatus();
    const size_t at = pos_;
    int32_t min = 0, max = kRxUnbounded;
    const char c = Peek();
    if (c == '*') {
      ++pos_;
    } else if (c == '+') {
      min = 1;
      ++pos_;
    } else if (c == '?') {
      max = 1;
      ++pos_;
    } else {
      ++pos_;  // '{'
      min = ReadCount();
      max = min;
      if (Peek() == ',') {
        ++pos_;
        max = (!AtEnd() && IsDigit(Peek())) ? ReadCount() : kRxUnbounded;
      }
      ++pos_;  // '}'
      if (min > kMaxRegexRepeat || max > kMaxRegexRepeat) {
        return ErrorAt("repeat count over the limit of " + std::to_string(kMaxRegexRepeat), at);
      }
      if (max != kRxUnbounded && min > max) {
        return ErrorAt("numbers out of order in {n,m} quantifier", at);
      }
    }
    if (item->needs_start || item->needs_end) {
      return ErrorAt("anchor inside a quantified group is not supported", at);
    }
    if (Peek() == '?') ++pos_;  // lazy: the same language
    if (!AtEnd() && IsQuantifierStart()) {
      if (Peek() == '+') return Error("possessive quantifier is not supported");
      return Error("quantifier with nothing to repeat (a quantifier follows a quantifier)");
    }
    if (Peek() == '{' && Peek(1) == ',') {
      return AmbiguousBrace();
    }
    item->rx = RxRepeat(std::move(item->rx), min, max);
    return OkStatus();
  }

  Status ParseAtom(int depth, Item* out) {
    const char c = Peek();
    switch (c) {
      case '(':
        return ParseGroup(depth, out);
      case '[':
        return ParseClass(out);
      case '.': {
        ++pos_;
        static const Ranges* line_terminators =
            new Ranges{{0x0A, 0x0A}, {0x0D, 0x0D}, {0x2028, 0x2029}};
        out->rx = RxCodepointsExcept(*line_terminators);
        return OkStatus();
      }
      case '\\': {
        ClassAtom atom;
        SG_RETURN_IF_ERROR(ParseEscape(/*in_class=*/false, &atom));
        out->rx = atom.is_set ? RxCodepoints(atom.set) : CodepointRx(atom.cp);
        return OkStatus();
      }
      default: {
        uint32_t cp = 0;
        SG_RETURN_IF_ERROR(ReadLiteral(&cp));
        out->rx = CodepointRx(cp);
        return OkStatus();
      }
    }
  }

  Status ReadLiteral(uint32_t* cp) {
    const int len = DecodeUtf8(p_, pos_, cp);
    if (len == 0) return Error("the pattern is not valid UTF-8");
    pos_ += len;
    return OkStatus();
  }

  Status ParseGroup(int depth, Item* out) {
    const size_t open = pos_;
    if (depth + 1 > kMaxNesting) {
      return Error("groups nested deeper than " + std::to_string(kMaxNesting) +
                   " levels are not supported");
    }
    ++pos_;  // '('
    if (Peek() == '?') {
      const char k = Peek(1);
      if (k == ':') {
        pos_ += 2;
      } else if (k == '=' || k == '!') {
        return Error(std::string("lookahead (?") + k + " is not supported");
      } else if (k == '<' && (Peek(2) == '=' || Peek(2) == '!')) {
        return Error(std::string("lookbehind (?<") + Peek(2) + " is not supported");
      } else if (k == '<') {
        pos_ += 2;
        SG_RETURN_IF_ERROR(ParseGroupName());
      } else {
        return Error("group modifiers or flags '(?" + std::string(1, k) +
                     "' are not supported (only (?:...) and (?<name>...))");
      }
    }
    SG_RETURN_IF_ERROR(ParseAlternation(depth + 1, out));
    if (Peek() != ')' || AtEnd()) return ErrorAt("unbalanced parenthesis: missing ')'", open);
    ++pos_;
    return OkStatus();
  }

  // A group name: an identifier (ASCII letters, digits, _ and $, not starting with a digit, or
  // non-ASCII characters) up to '>'.
  Status ParseGroupName() {
    const size_t start = pos_;
    while (!AtEnd() && Peek() != '>') {
      const char c = Peek();
      if (static_cast<uint8_t>(c) >= 0x80) {
        uint32_t cp = 0;
        SG_RETURN_IF_ERROR(ReadLiteral(&cp));
        continue;
      }
      if (!IsAsciiLetter(c) && c != '_' && c != '$' && !(IsDigit(c) && pos_ > start)) {
        return Error("invalid group name");
      }
      ++pos_;
    }
    if (AtEnd()) return ErrorAt("unterminated group name", start);
    if (pos_ == start) return Error("empty group name");
    ++pos_;  // '>'
    return OkStatus();
  }

  Status ParseClass(Item* out) {
    const size_t open = pos_;
    ++pos_;  // '['
    bool negate = false;
    if (Peek() == '^') {
      negate = true;
      ++pos_;
    }
    Ranges ranges;
    for (;;) {
      if (AtEnd()) return ErrorAt("unterminated character class: missing ']'", open);
      if (Peek() == ']') break;
      const size_t at = pos_;
      ClassAtom a;
      SG_RETURN_IF_ERROR(ParseClassAtom(&a));
      if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < p_.size()) {
        ++pos_;  // '-'
        ClassAtom b;
        SG_RETURN_IF_ERROR(ParseClassAtom(&b));
        if (a.is_set || b.is_set) {
          return ErrorAt("class escape " + (a.is_set ? a.spelling : b.spelling) +
                             " cannot be a range endpoint",
                         at);
        }
        if (a.cp > b.cp) return ErrorAt("range out of order in character class", at);
        ranges.push_back({a.cp, b.cp});
      } else if (a.is_set) {
        ranges.insert(ranges.end(), a.set.begin(), a.set.end());
      } else {
        ranges.push_back({a.cp, a.cp});
      }
    }
    ++pos_;  // ']'
    out->rx = negate ? RxCodepointsExcept(ranges) : RxCodepoints(ranges);
    return OkStatus();
  }

  Status ParseClassAtom(ClassAtom* atom) {
    if (Peek() == '\\') return ParseEscape(/*in_class=*/true, atom);
    if (Peek() == '[' && (Peek(1) == ':' || Peek(1) == '=' || Peek(1) == '.')) {
      // POSIX [:alpha:] is a literal set of characters in JS; almost surely not what was meant.
      return Error("POSIX class syntax '[" + std::string(1, Peek(1)) + "' is not supported");
    }
    return ReadLiteral(&atom->cp);
  }

  // Reads exactly `n` hex digits at pos_ (n > 0), or fails.
  bool ReadHex(int n, uint32_t* v) {
    if (pos_ + n > p_.size()) return false;
    uint32_t x = 0;
    for (int i = 0; i < n; ++i) {
      const int h = HexValue(p_[pos_ + i]);
      if (h < 0) return false;
      x = x * 16 + h;
    }
    pos_ += n;
    *v = x;
    return true;
  }

  Status ParseUnicodeEscape(size_t at, uint32_t* cp) {
    if (Peek() == '{') {
      ++pos_;
      uint64_t v = 0;
      size_t digits = 0;
      while (!AtEnd() && HexValue(Peek()) >= 0) {
        v = std::min<uint64_t>(v * 16 + HexValue(Peek()), 0x110000);
        ++pos_;
        ++digits;
      }
      if (digits == 0 || Peek() != '}' || AtEnd() || v > 0x10FFFF) {
        return ErrorAt("invalid \\u{...} escape", at);
      }
      ++pos_;
      *cp = static_cast<uint32_t>(v);
      return OkStatus();
    }
    if (!ReadHex(4, cp)) return ErrorAt("invalid \\u escape (\\uHHHH or \\u{H...})", at);
    // A surrogate pair spelled as two escapes is one scalar value.
    if (*cp >= 0xD800 && *cp <= 0xDBFF && Peek() == '\\' && Peek(1) == 'u') {
      const size_t save = pos_;
      pos_ += 2;
      uint32_t low;
      if (ReadHex(4, &low) && low >= 0xDC00 && low <= 0xDFFF) {
        *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
      } else {
        pos_ = save;
      }
    }
    return OkStatus();
  }

  // An escape at pos_ ('\\'): a single value or a class escape's set.
  Status ParseEscape(bool in_class, ClassAtom* atom) {
    const size_t at = pos_;
    ++pos_;  // '\\'
    if (AtEnd()) return ErrorAt("the pattern ends with a lone backslash", at);
    const char c = Peek();
    atom->spelling = std::string("\\") + c;
    auto set = [&](const Ranges& r, bool complement) {
      ++pos_;
      atom->is_set = true;
      atom->set = complement ? Complement(r) : r;
      return OkStatus();
    };
    auto value = [&](uint32_t v) {
      ++pos_;
      atom->cp = v;
      return OkStatus();
    };
    switch (c) {
      case 'd':
        return set(DigitRanges(), false);
      case 'D':
        return set(DigitRanges(), true);
      case 'w':
        return set(WordRanges(), false);
      case 'W':
        return set(WordRanges(), true);
      case 's':
        return set(SpaceRanges(), false);
      case 'S':
        return set(SpaceRanges(), true);
      case 'n':
        return value('\n');
      case 'r':
        return value('\r');
      case 't':
        return value('\t');
      case 'f':
        return value('\f');
      case 'v':
        return value('\v');
      case '-':
        return value('-');
      case 'b':
        if (in_class) return value(0x08);  // [\b] is backspace
        return ErrorAt("word boundary assertion \\b is not supported", at);
      case 'B':
        return ErrorAt("word boundary assertion \\B is not supported", at);
      case '0':
        if (IsDigit(Peek(1))) {
          return ErrorAt("octal escape \\0" + std::string(1, Peek(1)) + " is not supported", at);
        }
        return value(0);
      case 'k':
        return ErrorAt("named backreference \\k is not supported", at);
      case 'p':
      case 'P':
        return ErrorAt("Unicode property escape \\" + std::string(1, c) + " is not supported", at);
      case 'c': {
        const char letter = Peek(1);
        if (!IsAsciiLetter(letter)) return ErrorAt("invalid control escape \\c", at);
        pos_ += 2;
        atom->cp = static_cast<uint32_t>(letter) % 32;
        return OkStatus();
      }
      case 'x': {
        ++pos_;
        if (!ReadHex(2, &atom->cp)) return ErrorAt("invalid \\x escape (\\xHH)", at);
        return OkStatus();
      }
      case 'u':
        ++pos_;
        return ParseUnicodeEscape(at, &atom->cp);
      default:
        break;
    }
    if (IsDigit(c)) {
      return ErrorAt("backreference \\" + std::string(1, c) + " is not supported", at);
    }
    if (IsAsciiLetter(c)) return ErrorAt("unknown escape \\" + std::string(1, c), at);
    // Escaped punctuation, space or a non-ASCII character: itself.
    return ReadLiteral(&atom->cp);
  }

  std::string_view p_;
  size_t pos_ = 0;
};

}  // namespace

StatusOr<Rx> ParseRegex(std::string_view pattern) {
  if (pattern.size() > kMaxRegexLength) {
    return InvalidArgumentError("invalid regex: the pattern is longer than " +
                                std::to_string(kMaxRegexLength) + " bytes");
  }
  return Parser(pattern).Parse();
}

}  // namespace sg
