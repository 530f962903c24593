// Jinja2's grammar over the lexer's tokens: the statements transformers' environment knows (if,
// for, set, macro, call, filter, with, break/continue from the loopcontrols extension, and
// generation), and the expression grammar with Jinja2's precedence.
#pragma once

#include <string_view>

#include "engine/core/status.h"
#include "engine/text/jinja/ast.h"

namespace sg::jinja {

// Nesting limit of the parser, in units of the syntax tree's height (a bracket level costs about
// three, each link of an operator, filter or attribute chain one, a block one): deeper sources are
// refused so that neither the parser, the evaluator nor the tree's destructor can exhaust the
// stack.
inline constexpr int kMaxParseDepth = 512;

// Errors: InvalidArgument "TemplateSyntaxError: ... (line N)".
StatusOr<Body> Parse(std::string_view source);

}  // namespace sg::jinja
