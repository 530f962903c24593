// Jinja2's statement grammar (template structure: text, print, tags, macros, for/set/with targets,
// end tags) and the Parse() entry point; the expression grammar is in parse_expr.cc.
// Thread rules: one Parser per Parse() call, used by one thread.
#include "engine/text/jinja/parser.h"

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/text/jinja/lexer.h"
#include "engine/text/jinja/parser_internal.h"

namespace sg::jinja {
namespace detail {

StatusOr<Body> Parser::Run() {
  Body body;
  std::string end;
  SG_RETURN_IF_ERROR(ParseBody({}, "", body, end));
  return body;
}

// Parses statements until `{% <one of END_TAGS>`; leaves the stream on that tag name and stores
// it in END. At the end of the template that is an error unless END_TAGS is empty.
Status Parser::ParseBody(std::initializer_list<const char*> end_tags, const char* block, Body& body,
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

Status Parser::EndOfStatement() { return Expect(TokenType::kBlockEnd, "end of statement block"); }

Status Parser::ParseStatement(Body& body) {
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
Status Parser::ParseMacroBody(const char* end_tag, MacroDef& m) {
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

bool Parser::UsesName(const Expr* e, std::string_view name) {
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

bool Parser::UsesName(const Body& body, std::string_view name) {
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
Status Parser::ParseSignature(MacroDef& m) {
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
StatusOr<ExprPtr> Parser::ParseAssignTarget(bool with_namespace,
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

bool Parser::IsAssignable(const Expr& e) {
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
}  // namespace detail

StatusOr<Body> Parse(std::string_view source) {
  SG_ASSIGN_OR_RETURN(std::vector<Token> tokens, Lex(source));
  detail::Parser p(std::move(tokens));
  return p.Run();
}

}  // namespace sg::jinja
