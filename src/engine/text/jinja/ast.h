// The syntax tree of a compiled template: expressions and statements as Jinja2's parser builds
// them. Plain structs, owned by their parent through unique_ptr; immutable after parsing, so one
// compiled template may render on many threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/text/jinja/value.h"

namespace sg::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Expr {
  enum class Kind {
    kLiteral,   // literal
    kName,      // name
    kGetAttr,   // args[0].name  (`x.y`)
    kGetItem,   // args[0][args[1]]
    kSlice,     // args = {start, stop, step}, each may be null; only as args[1] of kGetItem
    kCall,      // args[0](args[1..], kwargs, *dyn_args, **dyn_kwargs)
    kFilter,    // args[0] | name(args[1..], kwargs); args[0] is null in a filter block
    kTest,      // args[0] is name(args[1..], kwargs)
    kNeg,       // -args[0]
    kPos,       // +args[0]
    kNot,       // not args[0]
    kBinary,    // args[0] <name> args[1]: + - * / // % ** ~
    kAnd,       // args[0] and args[1]
    kOr,        // args[0] or args[1]
    kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ...; ops: == != < <= > >= in notin
    kCondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
    kList,
    kTuple,
    kDict,  // args = key0, value0, key1, value1, ...
  };
  Kind kind;
  int line = 0;
  Value literal;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args;
  ExprPtr dyn_kwargs;
  std::vector<std::string> ops;
};

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // aligned with params; null where the parameter has none
  Body body;
  bool uses_caller = false;
  bool uses_varargs = false;
  bool uses_kwargs = false;
};

struct Stmt {
  enum class Kind {
    kText,         // text
    kPrint,        // {{ expr }}
    kIf,           // branches (cond, body); else_body
    kFor,          // for target in expr [if cond] ... [else] endfor
    kSet,          // set target = expr
    kSetBlock,     // set target [| filters] ... endset; filter = the filter chain or null
    kMacro,        // macro
    kCallBlock,    // call(macro->params) expr ... endcall; the caller is macro
    kFilterBlock,  // filter <filter> ... endfilter
    kBreak,
    kContinue,
    kWith,      // with targets = values ... endwith
    kPassBody,  // generation ... endgeneration: renders its body as is
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr target;
  ExprPtr cond;    // kFor filter
  ExprPtr filter;  // kSetBlock / kFilterBlock
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
  std::shared_ptr<MacroDef> macro;
  std::vector<std::pair<ExprPtr, ExprPtr>> assignments;  // kWith
};

}  // namespace sg::jinja
