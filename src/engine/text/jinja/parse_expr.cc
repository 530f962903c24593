// Jinja2's expression grammar with its precedence: tuples, ParseExpression and everything below it
// (conditional, or, and, not, comparisons, math, pow, unary, primaries and literals, subscripts,
// calls, filters, tests). Thread rules: one Parser per Parse() call, used by one thread.
#include <cerrno>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/parser_internal.h"

namespace sg::jinja::detail {

bool Parser::IsTupleEnd(std::initializer_list<const char*> extra_end) const {
  const Token& t = Cur();
  if (t.type == TokenType::kVarEnd || t.type == TokenType::kBlockEnd || t.type == TokenType::kEof) {
    return true;
  }
  if (t.type == TokenType::kOp && t.value == ")") return true;
  if (t.type == TokenType::kName) {
    for (const char* e : extra_end) {
      if (t.value == e) return true;
    }
  }
  return false;
}

StatusOr<ExprPtr> Parser::ParseTuple(bool simplified, bool with_condexpr,
                                     std::initializer_list<const char*> extra_end,
                                     bool explicit_parentheses) {
  const int line = Cur().line;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) SG_RETURN_IF_ERROR(ExpectOp(","));
    if (IsTupleEnd(extra_end)) break;
    ExprPtr e;
    if (simplified) {
      SG_ASSIGN_OR_RETURN(e, ParsePrimary());
    } else {
      SG_ASSIGN_OR_RETURN(e, ParseExpression(with_condexpr));
    }
    items.push_back(std::move(e));
    if (IsOp(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) return Fail("Expected an expression, got " + Describe(Cur()));
  }
  ExprPtr t = MakeExpr(K::kTuple, line);
  t->args = std::move(items);
  return t;
}

StatusOr<ExprPtr> Parser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(depth_);
  if (guard.exceeded()) return DepthError();
  if (!with_condexpr) return ParseOr();
  SG_ASSIGN_OR_RETURN(ExprPtr expr1, ParseOr());
  ChainGuard chain(depth_);
  while (IsName("if")) {
    if (chain.Link()) return DepthError();
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr expr2, ParseOr());
    ExprPtr expr3;
    if (IsName("else")) {
      Advance();
      SG_ASSIGN_OR_RETURN(expr3, ParseExpression(true));
    }
    ExprPtr c = MakeExpr(K::kCondExpr, line);
    c->args.push_back(std::move(expr2));
    c->args.push_back(std::move(expr1));
    c->args.push_back(std::move(expr3));
    expr1 = std::move(c);
  }
  return expr1;
}

StatusOr<ExprPtr> Parser::Binary(K kind, std::string name, ExprPtr a, ExprPtr b, int line) {
  ExprPtr e = MakeExpr(kind, line);
  e->name = std::move(name);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

StatusOr<ExprPtr> Parser::ParseOr() {
  SG_ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
  ChainGuard chain(depth_);
  while (IsName("or")) {
    if (chain.Link()) return DepthError();
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
    SG_ASSIGN_OR_RETURN(left, Binary(K::kOr, "or", std::move(left), std::move(right), line));
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseAnd() {
  SG_ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
  ChainGuard chain(depth_);
  while (IsName("and")) {
    if (chain.Link()) return DepthError();
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
    SG_ASSIGN_OR_RETURN(left, Binary(K::kAnd, "and", std::move(left), std::move(right), line));
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseNot() {
  if (IsName("not")) {
    DepthGuard guard(depth_);
    if (guard.exceeded()) return DepthError();
    const int line = Cur().line;
    Advance();
    ExprPtr e = MakeExpr(K::kNot, line);
    SG_ASSIGN_OR_RETURN(ExprPtr inner, ParseNot());
    e->args.push_back(std::move(inner));
    return e;
  }
  return ParseCompare();
}

StatusOr<ExprPtr> Parser::ParseCompare() {
  const int line = Cur().line;
  SG_ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
  ExprPtr cmp;
  while (true) {
    std::string op;
    if (Cur().type == TokenType::kOp &&
        (Cur().value == "==" || Cur().value == "!=" || Cur().value == "<" || Cur().value == "<=" ||
         Cur().value == ">" || Cur().value == ">=")) {
      op = Cur().value;
      Advance();
    } else if (IsName("in")) {
      op = "in";
      Advance();
    } else if (IsName("not") && Peek().type == TokenType::kName && Peek().value == "in") {
      op = "notin";
      Advance();
      Advance();
    } else {
      break;
    }
    if (!cmp) {
      cmp = MakeExpr(K::kCompare, line);
      cmp->args.push_back(std::move(first));
    }
    SG_ASSIGN_OR_RETURN(ExprPtr next, ParseMath1());
    cmp->args.push_back(std::move(next));
    cmp->ops.push_back(std::move(op));
  }
  return cmp ? std::move(cmp) : std::move(first);
}

StatusOr<ExprPtr> Parser::ParseMath1() {
  SG_ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
  ChainGuard chain(depth_);
  while (IsOp("+") || IsOp("-")) {
    if (chain.Link()) return DepthError();
    std::string op = Cur().value;
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr right, ParseConcat());
    SG_ASSIGN_OR_RETURN(left, Binary(K::kBinary, op, std::move(left), std::move(right), line));
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseConcat() {
  SG_ASSIGN_OR_RETURN(ExprPtr left, ParseMath2());
  ChainGuard chain(depth_);
  while (IsOp("~")) {
    if (chain.Link()) return DepthError();
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr right, ParseMath2());
    SG_ASSIGN_OR_RETURN(left, Binary(K::kBinary, "~", std::move(left), std::move(right), line));
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseMath2() {
  SG_ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
  ChainGuard chain(depth_);
  while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
    if (chain.Link()) return DepthError();
    std::string op = Cur().value;
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr right, ParsePow());
    SG_ASSIGN_OR_RETURN(left, Binary(K::kBinary, op, std::move(left), std::move(right), line));
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParsePow() {
  SG_ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
  ChainGuard chain(depth_);
  while (IsOp("**")) {
    if (chain.Link()) return DepthError();
    const int line = Cur().line;
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr right, ParseUnary(true));
    SG_ASSIGN_OR_RETURN(left, Binary(K::kBinary, "**", std::move(left), std::move(right), line));
  }
  return left;
}

StatusOr<ExprPtr> Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(depth_);
  if (guard.exceeded()) return DepthError();
  ExprPtr node;
  if (IsOp("-") || IsOp("+")) {
    node = MakeExpr(IsOp("-") ? K::kNeg : K::kPos, Cur().line);
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr inner, ParseUnary(false));
    node->args.push_back(std::move(inner));
  } else {
    SG_ASSIGN_OR_RETURN(node, ParsePrimary());
  }
  SG_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
  if (with_filter) {
    SG_ASSIGN_OR_RETURN(node, ParseFilterExpr(std::move(node)));
  }
  return node;
}

StatusOr<ExprPtr> Parser::ParsePrimary() {
  DepthGuard guard(depth_);
  if (guard.exceeded()) return DepthError();
  const Token& t = Cur();
  const int line = t.line;
  if (t.type == TokenType::kName) {
    ExprPtr e;
    if (t.value == "true" || t.value == "True") {
      e = MakeExpr(K::kLiteral, line);
      e->literal = Value::Bool(true);
    } else if (t.value == "false" || t.value == "False") {
      e = MakeExpr(K::kLiteral, line);
      e->literal = Value::Bool(false);
    } else if (t.value == "none" || t.value == "None") {
      e = MakeExpr(K::kLiteral, line);
      e->literal = Value::None();
    } else {
      e = MakeExpr(K::kName, line);
      e->name = t.value;
    }
    Advance();
    return e;
  }
  if (t.type == TokenType::kString) {
    std::string s;
    while (Cur().type == TokenType::kString) {
      s += Cur().value;
      Advance();
    }
    ExprPtr e = MakeExpr(K::kLiteral, line);
    e->literal = Value::Str(std::move(s));
    return e;
  }
  if (t.type == TokenType::kInt || t.type == TokenType::kFloat) {
    ExprPtr e = MakeExpr(K::kLiteral, line);
    SG_ASSIGN_OR_RETURN(e->literal, NumberLiteral(t));
    Advance();
    return e;
  }
  if (IsOp("(")) {
    Advance();
    SG_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(false, true, {}, true));
    SG_RETURN_IF_ERROR(ExpectOp(")"));
    return e;
  }
  if (IsOp("[")) {
    Advance();
    ExprPtr e = MakeExpr(K::kList, line);
    while (!IsOp("]")) {
      if (!e->args.empty()) SG_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp("]")) break;
      SG_ASSIGN_OR_RETURN(ExprPtr item, ParseExpression(true));
      e->args.push_back(std::move(item));
    }
    Advance();
    return e;
  }
  if (IsOp("{")) {
    Advance();
    ExprPtr e = MakeExpr(K::kDict, line);
    while (!IsOp("}")) {
      if (!e->args.empty()) SG_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp("}")) break;
      SG_ASSIGN_OR_RETURN(ExprPtr key, ParseExpression(true));
      SG_RETURN_IF_ERROR(ExpectOp(":"));
      SG_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
      e->args.push_back(std::move(key));
      e->args.push_back(std::move(value));
    }
    Advance();
    return e;
  }
  return Fail("unexpected " + Describe(t));
}

StatusOr<Value> Parser::NumberLiteral(const Token& t) {
  const std::string& s = t.value;
  if (t.type == TokenType::kFloat) {
    return Value::Float(std::strtod(s.c_str(), nullptr));
  }
  int base = 10;
  size_t start = 0;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, start = 2;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) base = 8, start = 2;
  if (s.size() > 1 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) base = 2, start = 2;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str() + start, &end, base);
  if (errno == ERANGE) return Fail("integer literal out of range");
  if (end == s.c_str() + start || *end != '\0') return Fail("invalid integer literal");
  return Value::Int(v);
}

StatusOr<ExprPtr> Parser::ParsePostfix(ExprPtr node) {
  ChainGuard chain(depth_);
  while (true) {
    if (chain.Link()) return DepthError();
    if (IsOp(".") || IsOp("[")) {
      SG_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
    } else if (IsOp("(")) {
      SG_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
    } else {
      return node;
    }
  }
}

StatusOr<ExprPtr> Parser::ParseFilterExpr(ExprPtr node) {
  ChainGuard chain(depth_);
  while (true) {
    if (chain.Link()) return DepthError();
    if (IsOp("|")) {
      SG_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), false));
    } else if (IsName("is")) {
      SG_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
    } else if (IsOp("(")) {
      SG_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
    } else {
      return node;
    }
  }
}

StatusOr<ExprPtr> Parser::ParseSubscript(ExprPtr node) {
  const int line = Cur().line;
  if (IsOp(".")) {
    Advance();
    if (Cur().type == TokenType::kName) {
      ExprPtr e = MakeExpr(K::kGetAttr, line);
      e->name = Cur().value;
      e->args.push_back(std::move(node));
      Advance();
      return e;
    }
    if (Cur().type != TokenType::kInt) return Fail("expected name or number");
    ExprPtr e = MakeExpr(K::kGetItem, line);
    ExprPtr idx = MakeExpr(K::kLiteral, line);
    SG_ASSIGN_OR_RETURN(idx->literal, NumberLiteral(Cur()));
    Advance();
    e->args.push_back(std::move(node));
    e->args.push_back(std::move(idx));
    return e;
  }
  Advance();  // [
  std::vector<ExprPtr> args;
  while (!IsOp("]")) {
    if (!args.empty()) {
      SG_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp("]")) break;
    }
    SG_ASSIGN_OR_RETURN(ExprPtr a, ParseSubscribed());
    args.push_back(std::move(a));
  }
  Advance();
  if (args.empty()) return Fail("expected subscript expression");
  ExprPtr e = MakeExpr(K::kGetItem, line);
  e->args.push_back(std::move(node));
  if (args.size() == 1) {
    e->args.push_back(std::move(args[0]));
  } else {
    ExprPtr t = MakeExpr(K::kTuple, line);
    t->args = std::move(args);
    e->args.push_back(std::move(t));
  }
  return e;
}

StatusOr<ExprPtr> Parser::ParseSubscribed() {
  const int line = Cur().line;
  std::vector<ExprPtr> parts;
  if (IsOp(":")) {
    Advance();
    parts.emplace_back();
  } else {
    SG_ASSIGN_OR_RETURN(ExprPtr node, ParseExpression(true));
    if (!IsOp(":")) return node;
    Advance();
    parts.push_back(std::move(node));
  }
  if (IsOp(":")) {
    parts.emplace_back();
  } else if (!IsOp("]") && !IsOp(",")) {
    SG_ASSIGN_OR_RETURN(ExprPtr stop, ParseExpression(true));
    parts.push_back(std::move(stop));
  } else {
    parts.emplace_back();
  }
  if (IsOp(":")) {
    Advance();
    if (!IsOp("]") && !IsOp(",")) {
      SG_ASSIGN_OR_RETURN(ExprPtr step, ParseExpression(true));
      parts.push_back(std::move(step));
    } else {
      parts.emplace_back();
    }
  } else {
    parts.emplace_back();
  }
  ExprPtr e = MakeExpr(K::kSlice, line);
  e->args = std::move(parts);
  return e;
}

// Arguments of a call, filter or test: (a, b, name=c, *d, **e).
Status Parser::ParseCallArgs(Expr& e) {
  SG_RETURN_IF_ERROR(ExpectOp("("));
  bool first = true;
  while (!IsOp(")")) {
    if (!first) {
      SG_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp(")")) break;
    }
    first = false;
    if (IsOp("*")) {
      Advance();
      SG_ASSIGN_OR_RETURN(e.dyn_args, ParseExpression(true));
    } else if (IsOp("**")) {
      Advance();
      SG_ASSIGN_OR_RETURN(e.dyn_kwargs, ParseExpression(true));
    } else if (Cur().type == TokenType::kName && Peek().type == TokenType::kOp &&
               Peek().value == "=") {
      std::string key = Cur().value;
      Advance();
      Advance();
      SG_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
      e.kwargs.emplace_back(std::move(key), std::move(v));
    } else {
      if (!e.kwargs.empty() || e.dyn_args || e.dyn_kwargs) {
        return Fail("invalid syntax for function call expression");
      }
      SG_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
      e.args.push_back(std::move(v));
    }
  }
  Advance();
  return OkStatus();
}

StatusOr<ExprPtr> Parser::ParseCall(ExprPtr node) {
  ExprPtr e = MakeExpr(K::kCall, Cur().line);
  e->args.push_back(std::move(node));
  SG_RETURN_IF_ERROR(ParseCallArgs(*e));
  return e;
}

StatusOr<std::string> Parser::DottedName() {
  SG_ASSIGN_OR_RETURN(std::string name, ExpectName());
  while (IsOp(".")) {
    Advance();
    SG_ASSIGN_OR_RETURN(std::string part, ExpectName());
    name += "." + part;
  }
  return name;
}

// `| name(args)` repeated; START_INLINE: the first filter has no leading `|` (filter blocks).
StatusOr<ExprPtr> Parser::ParseFilter(ExprPtr node, bool start_inline) {
  ChainGuard chain(depth_);
  while (IsOp("|") || start_inline) {
    if (chain.Link()) return DepthError();
    if (!start_inline) Advance();
    start_inline = false;
    ExprPtr e = MakeExpr(K::kFilter, Cur().line);
    SG_ASSIGN_OR_RETURN(e->name, DottedName());
    e->args.push_back(std::move(node));
    if (IsOp("(")) SG_RETURN_IF_ERROR(ParseCallArgs(*e));
    node = std::move(e);
  }
  return node;
}

StatusOr<ExprPtr> Parser::ParseTest(ExprPtr node) {
  const int line = Cur().line;
  Advance();  // is
  bool negated = false;
  if (IsName("not")) {
    negated = true;
    Advance();
  }
  ExprPtr e = MakeExpr(K::kTest, line);
  SG_ASSIGN_OR_RETURN(e->name, DottedName());
  e->args.push_back(std::move(node));
  const Token& t = Cur();
  if (IsOp("(")) {
    SG_RETURN_IF_ERROR(ParseCallArgs(*e));
  } else if ((t.type == TokenType::kName || t.type == TokenType::kString ||
              t.type == TokenType::kInt || t.type == TokenType::kFloat || IsOp("(") || IsOp("[") ||
              IsOp("{")) &&
             !(IsName("else") || IsName("or") || IsName("and"))) {
    if (IsName("is")) return Fail("You cannot chain multiple tests with is");
    SG_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
    SG_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
    e->args.push_back(std::move(arg));
  }
  if (negated) {
    ExprPtr n = MakeExpr(K::kNot, line);
    n->args.push_back(std::move(e));
    return n;
  }
  return e;
}
}  // namespace sg::jinja::detail
