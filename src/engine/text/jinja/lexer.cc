#include "engine/text/jinja/lexer.h"

#include <cstring>

#include "engine/text/jinja/py_string.h"
#include "engine/text/utf8.h"

namespace sg::jinja {
namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

Status SyntaxError(const std::string& what, int line) {
  return InvalidArgumentError("TemplateSyntaxError: " + what + " (line " + std::to_string(line) +
                              ")");
}

// Python's str.rstrip() (Unicode whitespace).
std::string_view RStrip(std::string_view s) { return py::Strip(s, std::nullopt, false, true); }

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {}

  StatusOr<std::vector<Token>> Run() {
    while (pos_ < src_.size()) {
      size_t start = FindTagStart(pos_);
      std::string_view text(src_.data() + pos_, (start == npos ? src_.size() : start) - pos_);
      if (start == npos) {
        Emit(TokenType::kText, std::string(text));
        break;
      }
      const char kind = src_[start + 1];  // '{', '%' or '#'
      const char mod = start + 2 < src_.size() ? src_[start + 2] : '\0';
      text = ControlLeft(text, kind, mod, pos_);
      if (!text.empty()) Emit(TokenType::kText, std::string(text));
      line_ = LineAt(start);
      pos_ = start + 2;
      if (mod == '-' || mod == '+') ++pos_;
      if (kind == '#') {
        SG_RETURN_IF_ERROR(SkipComment());
      } else if (kind == '%' && IsRawStart()) {
        SG_RETURN_IF_ERROR(LexRaw());
      } else {
        SG_RETURN_IF_ERROR(LexTag(kind == '{'));
      }
    }
    tokens_.push_back(Token{TokenType::kEof, "", LineAt(src_.size())});
    return std::move(tokens_);
  }

 private:
  static constexpr size_t npos = std::string::npos;

  size_t FindTagStart(size_t from) const {
    while (true) {
      const size_t at = src_.find('{', from);
      if (at == npos || at + 1 >= src_.size()) return npos;
      const char c = src_[at + 1];
      if (c == '{' || c == '%' || c == '#') return at;
      from = at + 1;
    }
  }

  int LineAt(size_t pos) {
    while (line_pos_ < pos && line_pos_ < src_.size()) {
      if (src_[line_pos_] == '\n') ++line_count_;
      ++line_pos_;
    }
    return line_count_;
  }

  // `{%-` strips all whitespace before the tag; lstrip_blocks strips spaces and tabs between the
  // line start and a block or comment tag (not `{{`), unless the tag says `{%+`.
  std::string_view ControlLeft(std::string_view text, char kind, char mod, size_t text_pos) {
    if (mod == '-') return RStrip(text);
    if (kind == '{' || mod == '+') return text;
    const size_t nl = text.rfind('\n');
    const size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
    const bool line_starting = text_pos == 0 || src_[text_pos - 1] == '\n';
    if (nl == std::string_view::npos && !line_starting) return text;
    for (size_t i = l_pos; i < text.size(); ++i) {
      if (text[i] != ' ' && text[i] != '\t') return text;
    }
    return text.substr(0, l_pos);
  }

  // After a `%}` or `#}`: trim_blocks drops one newline; after `-%}` all whitespace goes.
  void ControlRight(char mod) {
    if (mod == '-') {
      SkipUnicodeSpace();
    } else if (mod != '+' && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
  }

  void SkipUnicodeSpace() {
    while (pos_ < src_.size()) {
      size_t k = pos_;
      if (!py::IsSpace(utf8::Next(src_, k))) break;
      pos_ = k;
    }
  }

  Status SkipComment() {
    const size_t end = src_.find("#}", pos_);
    if (end == npos) return SyntaxError("Missing end of comment tag", line_);
    const char mod = end > pos_ && src_[end - 1] == '-' ? '-' : '\0';
    pos_ = end + 2;
    ControlRight(mod);
    return OkStatus();
  }

  // At pos_ (just after `{%` and its modifier): `\s*raw\s*[-+]?%}`?
  bool IsRawStart() const {
    size_t p = pos_;
    while (p < src_.size() && IsAsciiSpace(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    if (p < src_.size() && IsNameChar(src_[p])) return false;
    while (p < src_.size() && IsAsciiSpace(src_[p])) ++p;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) ++p;
    return src_.compare(p, 2, "%}") == 0;
  }

  Status LexRaw() {
    size_t p = src_.find("%}", pos_);
    const char open_mod = src_[p - 1];
    pos_ = p + 2;
    if (open_mod == '-') {
      SkipUnicodeSpace();
    }
    // Find `{%[-+]?\s*endraw\s*[-+]?%}`.
    size_t search = pos_;
    while (true) {
      const size_t at = src_.find("{%", search);
      if (at == npos) return SyntaxError("Missing end of raw directive", line_);
      size_t q = at + 2;
      char mod = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) mod = src_[q++];
      while (q < src_.size() && IsAsciiSpace(src_[q])) ++q;
      if (src_.compare(q, 6, "endraw") != 0) {
        search = at + 2;
        continue;
      }
      q += 6;
      while (q < src_.size() && IsAsciiSpace(src_[q])) ++q;
      char end_mod = '\0';
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) end_mod = src_[q++];
      if (src_.compare(q, 2, "%}") != 0) {
        search = at + 2;
        continue;
      }
      std::string_view body(src_.data() + pos_, at - pos_);
      body = ControlLeft(body, '%', mod, pos_);
      if (!body.empty()) Emit(TokenType::kText, std::string(body));
      pos_ = q + 2;
      ControlRight(end_mod);
      return OkStatus();
    }
  }

  Status LexTag(bool variable) {
    Emit(variable ? TokenType::kVarBegin : TokenType::kBlockBegin, "");
    int depth = 0;  // open brackets: `}}` inside a dict literal does not end the tag
    while (true) {
      while (pos_ < src_.size() && IsAsciiSpace(src_[pos_])) {
        if (src_[pos_] == '\n') ++line_;
        ++pos_;
      }
      if (pos_ >= src_.size()) return SyntaxError("unexpected end of template", line_);
      if (depth == 0) {
        const char* close = variable ? "}}" : "%}";
        char mod = '\0';
        size_t p = pos_;
        if (src_[p] == '-' || (!variable && src_[p] == '+')) mod = src_[p++];
        if (src_.compare(p, 2, close) == 0) {
          Emit(variable ? TokenType::kVarEnd : TokenType::kBlockEnd, "");
          pos_ = p + 2;
          if (variable) {
            if (mod == '-') SkipUnicodeSpace();
          } else {
            ControlRight(mod);
          }
          return OkStatus();
        }
      }
      const char c = src_[pos_];
      if (IsNameStart(c)) {
        size_t e = pos_;
        while (e < src_.size() && IsNameChar(src_[e])) ++e;
        Emit(TokenType::kName, src_.substr(pos_, e - pos_));
        pos_ = e;
      } else if (IsDigit(c)) {
        SG_RETURN_IF_ERROR(LexNumber());
      } else if (c == '\'' || c == '"') {
        SG_RETURN_IF_ERROR(LexString(c));
      } else {
        static const char* kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* t : kTwo) {
          if (src_.compare(pos_, 2, t) == 0) op = t;
        }
        if (op.empty()) {
          if (std::strchr("+-/*%~[](){}<>=.:|,;", c) == nullptr || c == '\0') {
            return SyntaxError(std::string("unexpected char ") + Quote(c), line_);
          }
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        Emit(TokenType::kOp, op);
        pos_ += op.size();
      }
    }
  }

  static std::string Quote(char c) {
    std::string out;
    AppendQuoted(c, out);
    return out;
  }
  static void AppendQuoted(char c, std::string& out) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) {
      out += '\'';
      out += c;
      out += '\'';
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "'\\x%02x'", u);
      out += buf;
    }
  }

  Status LexNumber() {
    size_t p = pos_;
    std::string digits;
    if (src_[p] == '0' && p + 1 < src_.size() && std::strchr("xXoObB", src_[p + 1]) != nullptr &&
        src_[p + 1] != '\0') {
      digits = src_.substr(p, 2);
      p += 2;
      while (p < src_.size() &&
             (std::isxdigit(static_cast<unsigned char>(src_[p])) || src_[p] == '_')) {
        if (src_[p] != '_') digits += src_[p];
        ++p;
      }
      Emit(TokenType::kInt, digits);
      pos_ = p;
      return OkStatus();
    }
    auto take_digits = [&] {
      while (p < src_.size() && (IsDigit(src_[p]) ||
                                 (src_[p] == '_' && p + 1 < src_.size() && IsDigit(src_[p + 1])))) {
        if (src_[p] != '_') digits += src_[p];
        ++p;
      }
    };
    take_digits();
    bool is_float = false;
    if (p + 1 < src_.size() && src_[p] == '.' && IsDigit(src_[p + 1])) {
      is_float = true;
      digits += '.';
      ++p;
      take_digits();
    }
    if (p < src_.size() && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && IsDigit(src_[q])) {
        is_float = true;
        digits += 'e';
        digits.append(src_, p + 1, q - p - 1);
        p = q;
        take_digits();
      }
    }
    Emit(is_float ? TokenType::kFloat : TokenType::kInt, digits);
    pos_ = p;
    return OkStatus();
  }

  static int HexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // A string literal, decoded as Python's unicode-escape does.
  Status LexString(char quote) {
    const int start_line = line_;
    size_t p = pos_ + 1;
    std::string out;
    while (true) {
      if (p >= src_.size()) return SyntaxError("unexpected end of string", start_line);
      const char c = src_[p];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\') {
        out += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) return SyntaxError("unexpected end of string", start_line);
      const char e = src_[p + 1];
      p += 2;
      switch (e) {
        case '\n':
          ++line_;
          break;  // line continuation
        case '\\':
          out += '\\';
          break;
        case '\'':
          out += '\'';
          break;
        case '"':
          out += '"';
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
        case 'u':
        case 'U': {
          const int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            const int h = p + k < src_.size() ? HexVal(src_[p + k]) : -1;
            if (h < 0) return SyntaxError("truncated \\" + std::string(1, e) + " escape", line_);
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          p += static_cast<size_t>(n);
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return SyntaxError("escape out of range", line_);
          }
          utf8::Append(cp, out);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k) {
              cp = cp * 8 + static_cast<uint32_t>(src_[p++] - '0');
            }
            utf8::Append(cp, out);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    tokens_.push_back(Token{TokenType::kString, std::move(out), start_line});
    pos_ = p + 1;
    return OkStatus();
  }

  void Emit(TokenType type, std::string value) {
    tokens_.push_back(Token{type, std::move(value), line_});
  }

  std::string src_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_pos_ = 0;
  int line_count_ = 1;
  std::vector<Token> tokens_;
};

// Newlines normalized to \n; one trailing newline dropped (Jinja2's keep_trailing_newline=False).
std::string NormalizeNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

StatusOr<std::vector<Token>> Lex(std::string_view source) {
  if (!utf8::IsValid(source)) {
    return InvalidArgumentError("TemplateSyntaxError: the template is not valid UTF-8");
  }
  if (source.find('\0') != std::string_view::npos) {
    // Python reads such a file fine, but a NUL is never part of a real template.
    return InvalidArgumentError("TemplateSyntaxError: the template contains a NUL byte");
  }
  Lexer lexer(NormalizeNewlines(source));
  return lexer.Run();
}

}  // namespace sg::jinja
