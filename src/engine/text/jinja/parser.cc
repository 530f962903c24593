#include "engine/text/jinja/parser.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <initializer_list>

#include "engine/text/jinja/lexer.h"

namespace sg::jinja {
namespace {

using K = Expr::Kind;

ExprPtr MakeExpr(K kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  StatusOr<Body> Run() {
    Body body;
    std::string end;
    SG_RETURN_IF_ERROR(ParseBody({}, "", body, end));
    return body;
  }

 private:
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

  // ---- statements ----

  // Parses statements until `{% <one of END_TAGS>`; leaves the stream on that tag name and stores
  // it in END. At the end of the template that is an error unless END_TAGS is empty.
  Status ParseBody(std::initializer_list<const char*> end_tags, const char* block, Body& body,
                   std::string& end) {
    DepthGuard guard(depth_);
    if (guard.exceeded()) return DepthError();
    while (true) {
      const Token& t = Cur();
      switch (t.type) {
        case TokenType::kText: {
          auto s = std::make_unique<Stmt>();
          s->kind = Stmt::Kind::kText;
          s->line = t.line;
          s->text = t.value;
          body.push_back(std::move(s));
          Advance();
          break;
        }
        case TokenType::kVarBegin: {
          Advance();
          auto s = std::make_unique<Stmt>();
          s->kind = Stmt::Kind::kPrint;
          s->line = t.line;
          SG_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, true, {}, false));
          SG_RETURN_IF_ERROR(Expect(TokenType::kVarEnd, "end of print statement"));
          body.push_back(std::move(s));
          break;
        }
        case TokenType::kBlockBegin: {
          const Token& name = Peek();
          if (name.type == TokenType::kName) {
            for (const char* e : end_tags) {
              if (name.value == e) {
                Advance();
                end = name.value;
                return OkStatus();
              }
            }
          }
          Advance();
          SG_RETURN_IF_ERROR(ParseStatement(body));
          break;
        }
        case TokenType::kEof:
          if (end_tags.size() == 0) return OkStatus();
          {
            std::string want;
            for (const char* e : end_tags) {
              want += want.empty() ? "" : " or ";
              want += Quoted(e);
            }
            return Fail("Unexpected end of template. Jinja was looking for the following tags: " +
                        want + ". The innermost block that needs to be closed is '" + block + "'.");
          }
        default:
          return Fail("unexpected " + Describe(t));
      }
    }
  }

  Status EndOfStatement() { return Expect(TokenType::kBlockEnd, "end of statement block"); }

  Status ParseStatement(Body& body) {
    if (Cur().type != TokenType::kName) return Fail("tag name expected");
    const std::string tag = Cur().value;
    const int line = Cur().line;
    Advance();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    std::string end;
    if (tag == "if") {
      s->kind = Stmt::Kind::kIf;
      while (true) {
        SG_ASSIGN_OR_RETURN(ExprPtr cond, ParseTuple(false, false, {}, false));
        SG_RETURN_IF_ERROR(EndOfStatement());
        Body branch;
        SG_RETURN_IF_ERROR(ParseBody({"elif", "else", "endif"}, "if", branch, end));
        Advance();  // the tag name
        s->branches.emplace_back(std::move(cond), std::move(branch));
        if (end == "elif") continue;
        if (end == "else") {
          SG_RETURN_IF_ERROR(EndOfStatement());
          SG_RETURN_IF_ERROR(ParseBody({"endif"}, "if", s->else_body, end));
          Advance();
        }
        break;
      }
    } else if (tag == "for") {
      s->kind = Stmt::Kind::kFor;
      SG_ASSIGN_OR_RETURN(s->target, ParseAssignTarget(false, {"in"}));
      if (!IsName("in")) return Fail("expected 'in'");
      Advance();
      SG_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, false, {"recursive"}, false));
      if (IsName("if")) {
        Advance();
        SG_ASSIGN_OR_RETURN(s->cond, ParseExpression(true));
      }
      if (IsName("recursive")) return Fail("recursive for loops are not supported");
      SG_RETURN_IF_ERROR(EndOfStatement());
      ++loop_depth_;
      const Status body_status = ParseBody({"endfor", "else"}, "for", s->body, end);
      --loop_depth_;
      SG_RETURN_IF_ERROR(body_status);
      Advance();
      if (end == "else") {
        SG_RETURN_IF_ERROR(EndOfStatement());
        SG_RETURN_IF_ERROR(ParseBody({"endfor"}, "for", s->else_body, end));
        Advance();
      }
    } else if (tag == "set") {
      SG_ASSIGN_OR_RETURN(s->target, ParseAssignTarget(true, {}));
      if (IsOp("=")) {
        Advance();
        s->kind = Stmt::Kind::kSet;
        SG_ASSIGN_OR_RETURN(s->expr, ParseTuple(false, true, {}, false));
      } else {
        s->kind = Stmt::Kind::kSetBlock;
        if (s->target->kind != K::kName && s->target->kind != K::kGetAttr) {
          return Fail("a block set needs a single target");
        }
        if (IsOp("|")) {
          SG_ASSIGN_OR_RETURN(s->filter, ParseFilter(nullptr, false));
        }
        SG_RETURN_IF_ERROR(EndOfStatement());
        SG_RETURN_IF_ERROR(ParseBody({"endset"}, "set", s->body, end));
        Advance();
      }
    } else if (tag == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->macro = std::make_shared<MacroDef>();
      SG_ASSIGN_OR_RETURN(s->macro->name, ExpectName());
      SG_RETURN_IF_ERROR(ParseSignature(*s->macro));
      SG_RETURN_IF_ERROR(EndOfStatement());
      SG_RETURN_IF_ERROR(ParseMacroBody("endmacro", *s->macro));
    } else if (tag == "call") {
      s->kind = Stmt::Kind::kCallBlock;
      s->macro = std::make_shared<MacroDef>();
      s->macro->name = "caller";
      if (IsOp("(")) SG_RETURN_IF_ERROR(ParseSignature(*s->macro));
      SG_ASSIGN_OR_RETURN(s->expr, ParseExpression(true));
      if (s->expr->kind != K::kCall) return Fail("expected call");
      SG_RETURN_IF_ERROR(EndOfStatement());
      SG_RETURN_IF_ERROR(ParseMacroBody("endcall", *s->macro));
    } else if (tag == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      SG_ASSIGN_OR_RETURN(s->filter, ParseFilter(nullptr, true));
      SG_RETURN_IF_ERROR(EndOfStatement());
      SG_RETURN_IF_ERROR(ParseBody({"endfilter"}, "filter", s->body, end));
      Advance();
    } else if (tag == "with") {
      s->kind = Stmt::Kind::kWith;
      while (Cur().type != TokenType::kBlockEnd) {
        if (!s->assignments.empty()) SG_RETURN_IF_ERROR(ExpectOp(","));
        SG_ASSIGN_OR_RETURN(ExprPtr target, ParseAssignTarget(false, {}));
        SG_RETURN_IF_ERROR(ExpectOp("="));
        SG_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
        s->assignments.emplace_back(std::move(target), std::move(value));
      }
      SG_RETURN_IF_ERROR(EndOfStatement());
      SG_RETURN_IF_ERROR(ParseBody({"endwith"}, "with", s->body, end));
      Advance();
    } else if (tag == "generation") {
      s->kind = Stmt::Kind::kPassBody;
      SG_RETURN_IF_ERROR(EndOfStatement());
      SG_RETURN_IF_ERROR(ParseBody({"endgeneration"}, "generation", s->body, end));
      Advance();
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) return FailAt(Quoted(tag) + " outside of a loop", line);
      s->kind = tag == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
    } else {
      return FailAt("Encountered unknown tag '" + tag + "'.", line);
    }
    SG_RETURN_IF_ERROR(EndOfStatement());
    body.push_back(std::move(s));
    return OkStatus();
  }

  // A macro's (or call block's) body: loop controls do not reach through it.
  Status ParseMacroBody(const char* end_tag, MacroDef& m) {
    const int saved = loop_depth_;
    loop_depth_ = 0;
    std::string end;
    const Status st = ParseBody({end_tag}, end_tag + 3, m.body, end);
    loop_depth_ = saved;
    SG_RETURN_IF_ERROR(st);
    Advance();
    m.uses_caller = UsesName(m.body, "caller");
    m.uses_varargs = UsesName(m.body, "varargs");
    m.uses_kwargs = UsesName(m.body, "kwargs");
    return OkStatus();
  }

  static bool UsesName(const Expr* e, std::string_view name) {
    if (e == nullptr) return false;
    if (e->kind == K::kName && e->name == name) return true;
    for (const auto& a : e->args) {
      if (UsesName(a.get(), name)) return true;
    }
    for (const auto& [k, v] : e->kwargs) {
      if (UsesName(v.get(), name)) return true;
    }
    return UsesName(e->dyn_args.get(), name) || UsesName(e->dyn_kwargs.get(), name);
  }

  static bool UsesName(const Body& body, std::string_view name) {
    for (const StmtPtr& s : body) {
      if (UsesName(s->expr.get(), name) || UsesName(s->cond.get(), name) ||
          UsesName(s->filter.get(), name) || UsesName(s->body, name) ||
          UsesName(s->else_body, name)) {
        return true;
      }
      for (const auto& [c, b] : s->branches) {
        if (UsesName(c.get(), name) || UsesName(b, name)) return true;
      }
      for (const auto& [t, v] : s->assignments) {
        if (UsesName(v.get(), name)) return true;
      }
      if (s->macro && s->kind == Stmt::Kind::kCallBlock && UsesName(s->macro->body, name)) {
        return true;
      }
      if (s->macro && s->kind == Stmt::Kind::kMacro) {
        for (const auto& d : s->macro->defaults) {
          if (UsesName(d.get(), name)) return true;
        }
      }
    }
    return false;
  }

  // (a, b=default, ...)
  Status ParseSignature(MacroDef& m) {
    SG_RETURN_IF_ERROR(ExpectOp("("));
    while (!IsOp(")")) {
      if (!m.params.empty()) SG_RETURN_IF_ERROR(ExpectOp(","));
      if (IsOp(")")) break;
      SG_ASSIGN_OR_RETURN(std::string name, ExpectName());
      ExprPtr def;
      if (IsOp("=")) {
        Advance();
        SG_ASSIGN_OR_RETURN(def, ParseExpression(true));
      } else if (!m.defaults.empty() && m.defaults.back() != nullptr) {
        return Fail("non-default argument follows default argument");
      }
      m.params.push_back(std::move(name));
      m.defaults.push_back(std::move(def));
    }
    Advance();
    return OkStatus();
  }

  // A for/set/with target: a name, `ns.attr` (set only), or a tuple of names.
  StatusOr<ExprPtr> ParseAssignTarget(bool with_namespace,
                                      std::initializer_list<const char*> extra_end) {
    if (with_namespace && Cur().type == TokenType::kName && Peek().type == TokenType::kOp &&
        Peek().value == ".") {
      ExprPtr e = MakeExpr(K::kGetAttr, Cur().line);
      ExprPtr ns = MakeExpr(K::kName, Cur().line);
      ns->name = Cur().value;
      Advance();
      Advance();
      SG_ASSIGN_OR_RETURN(e->name, ExpectName());
      e->args.push_back(std::move(ns));
      return e;
    }
    SG_ASSIGN_OR_RETURN(ExprPtr target, ParseTuple(true, true, extra_end, false));
    if (!IsAssignable(*target)) return Fail("can't assign to this expression");
    return target;
  }

  static bool IsAssignable(const Expr& e) {
    if (e.kind == K::kName) {
      return e.name != "true" && e.name != "false" && e.name != "none" && e.name != "True" &&
             e.name != "False" && e.name != "None";
    }
    if (e.kind == K::kTuple) {
      for (const auto& a : e.args) {
        if (!IsAssignable(*a)) return false;
      }
      return true;
    }
    return false;
  }

  // ---- expressions ----

  bool IsTupleEnd(std::initializer_list<const char*> extra_end) const {
    const Token& t = Cur();
    if (t.type == TokenType::kVarEnd || t.type == TokenType::kBlockEnd ||
        t.type == TokenType::kEof) {
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

  StatusOr<ExprPtr> ParseTuple(bool simplified, bool with_condexpr,
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

  StatusOr<ExprPtr> ParseExpression(bool with_condexpr) {
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

  StatusOr<ExprPtr> Binary(K kind, std::string name, ExprPtr a, ExprPtr b, int line) {
    ExprPtr e = MakeExpr(kind, line);
    e->name = std::move(name);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  StatusOr<ExprPtr> ParseOr() {
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

  StatusOr<ExprPtr> ParseAnd() {
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

  StatusOr<ExprPtr> ParseNot() {
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

  StatusOr<ExprPtr> ParseCompare() {
    const int line = Cur().line;
    SG_ASSIGN_OR_RETURN(ExprPtr first, ParseMath1());
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (Cur().type == TokenType::kOp &&
          (Cur().value == "==" || Cur().value == "!=" || Cur().value == "<" ||
           Cur().value == "<=" || Cur().value == ">" || Cur().value == ">=")) {
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

  StatusOr<ExprPtr> ParseMath1() {
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

  StatusOr<ExprPtr> ParseConcat() {
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

  StatusOr<ExprPtr> ParseMath2() {
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

  StatusOr<ExprPtr> ParsePow() {
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

  StatusOr<ExprPtr> ParseUnary(bool with_filter) {
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

  StatusOr<ExprPtr> ParsePrimary() {
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

  StatusOr<Value> NumberLiteral(const Token& t) {
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

  StatusOr<ExprPtr> ParsePostfix(ExprPtr node) {
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

  StatusOr<ExprPtr> ParseFilterExpr(ExprPtr node) {
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

  StatusOr<ExprPtr> ParseSubscript(ExprPtr node) {
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

  StatusOr<ExprPtr> ParseSubscribed() {
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
  Status ParseCallArgs(Expr& e) {
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

  StatusOr<ExprPtr> ParseCall(ExprPtr node) {
    ExprPtr e = MakeExpr(K::kCall, Cur().line);
    e->args.push_back(std::move(node));
    SG_RETURN_IF_ERROR(ParseCallArgs(*e));
    return e;
  }

  StatusOr<std::string> DottedName() {
    SG_ASSIGN_OR_RETURN(std::string name, ExpectName());
    while (IsOp(".")) {
      Advance();
      SG_ASSIGN_OR_RETURN(std::string part, ExpectName());
      name += "." + part;
    }
    return name;
  }

  // `| name(args)` repeated; START_INLINE: the first filter has no leading `|` (filter blocks).
  StatusOr<ExprPtr> ParseFilter(ExprPtr node, bool start_inline) {
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

  StatusOr<ExprPtr> ParseTest(ExprPtr node) {
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
                t.type == TokenType::kInt || t.type == TokenType::kFloat || IsOp("(") ||
                IsOp("[") || IsOp("{")) &&
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

  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;  // for bodies we are in (break/continue are allowed only there)
};

}  // namespace

StatusOr<Body> Parse(std::string_view source) {
  SG_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  Parser p(std::move(tokens));
  return p.Run();
}

}  // namespace sg::jinja
