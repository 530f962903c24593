// Internal to the Jinja parser: the Parser class (token cursor, depth limiting, the grammar's
// methods), shared by parser.cc (statements) and parse_expr.cc (expressions). Include nowhere else.
// Thread rules: one Parser per Parse() call, used by one thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/status.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/lexer.h"
#include "engine/text/jinja/parser.h"
#include "engine/text/jinja/value.h"

namespace sg::jinja::detail {

inline ExprPtr MakeExpr(Expr::Kind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  StatusOr<Body> Run();

 private:
  using K = Expr::Kind;

  // Keeps the recursion of the parser (and so of the evaluator) bounded.
  class DepthGuard {
   public:
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    bool exceeded() const { return d_ > kMaxParseDepth; }

   private:
    int& d_;
  };

  // Counts the links of a left-nested chain (a + b + c, x|f|g, x.a.b) against the depth limit;
  // gives them back when the chain is done.
  class ChainGuard {
   public:
    explicit ChainGuard(int& d) : d_(d) {}
    ~ChainGuard() { d_ -= n_; }
    bool Link() {
      ++d_;
      ++n_;
      return d_ > kMaxParseDepth;
    }

   private:
    int& d_;
    int n_ = 0;
  };

  const Token& Cur() const { return toks_[pos_]; }
  const Token& Peek(size_t n = 1) const {
    return toks_[pos_ + n < toks_.size() ? pos_ + n : toks_.size() - 1];
  }
  void Advance() {
    if (pos_ + 1 < toks_.size()) ++pos_;
  }
  bool IsOp(std::string_view op) const { return Cur().type == TokenType::kOp && Cur().value == op; }
  bool IsName(std::string_view n) const {
    return Cur().type == TokenType::kName && Cur().value == n;
  }
  Status Fail(const std::string& what) const { return FailAt(what, Cur().line); }
  static Status FailAt(const std::string& what, int line) {
    return InvalidArgumentError("TemplateSyntaxError: " + what + " (line " + std::to_string(line) +
                                ")");
  }
  Status DepthError() const { return Fail("the template nests too deeply"); }

  static std::string Describe(const Token& t) {
    switch (t.type) {
      case TokenType::kEof:
        return "end of template";
      case TokenType::kVarEnd:
        return "end of print statement";
      case TokenType::kBlockEnd:
        return "end of statement block";
      case TokenType::kText:
        return "template data";
      default:
        return Quoted(t.value);
    }
  }

  Status ExpectOp(std::string_view op) {
    if (!IsOp(op)) return Fail("expected '" + std::string(op) + "', got " + Describe(Cur()));
    Advance();
    return OkStatus();
  }
  Status Expect(TokenType type, const char* what) {
    if (Cur().type != type)
      return Fail(std::string("expected ") + what + ", got " + Describe(Cur()));
    Advance();
    return OkStatus();
  }
  StatusOr<std::string> ExpectName() {
    if (Cur().type != TokenType::kName) return Fail("expected a name, got " + Describe(Cur()));
    std::string n = Cur().value;
    Advance();
    return n;
  }

  // ---- statements (parser.cc) ----

  Status ParseBody(std::initializer_list<const char*> end_tags, const char* block, Body& body,
                   std::string& end);
  Status EndOfStatement();
  Status ParseStatement(Body& body);
  Status ParseMacroBody(const char* end_tag, MacroDef& m);
  static bool UsesName(const Expr* e, std::string_view name);
  static bool UsesName(const Body& body, std::string_view name);
  Status ParseSignature(MacroDef& m);
  StatusOr<ExprPtr> ParseAssignTarget(bool with_namespace,
                                      std::initializer_list<const char*> extra_end);
  static bool IsAssignable(const Expr& e);

  // ---- expressions (parse_expr.cc) ----

  bool IsTupleEnd(std::initializer_list<const char*> extra_end) const;
  StatusOr<ExprPtr> ParseTuple(bool simplified, bool with_condexpr,
                               std::initializer_list<const char*> extra_end,
                               bool explicit_parentheses);
  StatusOr<ExprPtr> ParseExpression(bool with_condexpr);
  StatusOr<ExprPtr> Binary(K kind, std::string name, ExprPtr a, ExprPtr b, int line);
  StatusOr<ExprPtr> ParseOr();
  StatusOr<ExprPtr> ParseAnd();
  StatusOr<ExprPtr> ParseNot();
  StatusOr<ExprPtr> ParseCompare();
  StatusOr<ExprPtr> ParseMath1();
  StatusOr<ExprPtr> ParseConcat();
  StatusOr<ExprPtr> ParseMath2();
  StatusOr<ExprPtr> ParsePow();
  StatusOr<ExprPtr> ParseUnary(bool with_filter);
  StatusOr<ExprPtr> ParsePrimary();
  StatusOr<Value> NumberLiteral(const Token& t);
  StatusOr<ExprPtr> ParsePostfix(ExprPtr node);
  StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node);
  StatusOr<ExprPtr> ParseSubscript(ExprPtr node);
  StatusOr<ExprPtr> ParseSubscribed();
  Status ParseCallArgs(Expr& e);
  StatusOr<ExprPtr> ParseCall(ExprPtr node);
  StatusOr<std::string> DottedName();
  StatusOr<ExprPtr> ParseFilter(ExprPtr node, bool start_inline);
  StatusOr<ExprPtr> ParseTest(ExprPtr node);

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // for bodies we are in (break/continue are allowed only there)
};

}  // namespace sg::jinja::detail
