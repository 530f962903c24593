// Jinja2 lexer with transformers' settings: trim_blocks and lstrip_blocks on, `{%-`/`-%}`
// whitespace control, comments, `{% raw %}`, newline normalization (\r\n and \r become \n) and
// the single trailing newline dropped (keep_trailing_newline=False).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/status.h"

namespace sg::jinja {

enum class TokenType : uint8_t {
  kText,        // template data between tags (already whitespace-controlled)
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,  // value = the decoded string
  kInt,     // value = the digits (underscores removed; may be 0x.., 0o.., 0b..)
  kFloat,
  kOp,  // value = the operator: + - * / // % ** ~ ( ) [ ] { } . , : | = == != < <= > >=
  kEof,
};

struct Token {
  TokenType type;
  std::string value;
  int line;
};

// Tokenizes SOURCE (valid UTF-8). Errors: InvalidArgument "TemplateSyntaxError: ... (line N)".
StatusOr<std::vector<Token>> Lex(std::string_view source);

}  // namespace sg::jinja
