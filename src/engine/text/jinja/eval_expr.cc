// Expression evaluation of the Evaluator (evaluator.h): one small function per kind of node.
#include <limits>

#include "engine/text/jinja/evaluator.h"
#include "engine/text/jinja/operators.h"

namespace sg::jinja {
namespace {

Status LimitError(const std::string& what) { return ResourceExhaustedError(what); }

}  // namespace

StatusOr<CallArgs> Evaluator::EvalArgs(const Expr& e, size_t first) {
  CallArgs args;
  for (size_t i = first; i < e.args.size(); ++i) {
    SG_ASSIGN_OR_RETURN(Value v, Eval(*e.args[i]));
    args.pos.push_back(std::move(v));
  }
  for (const auto& [k, x] : e.kwargs) {
    SG_ASSIGN_OR_RETURN(Value v, Eval(*x));
    args.kw.emplace_back(k, std::move(v));
  }
  if (e.dyn_args) {
    SG_ASSIGN_OR_RETURN(Value v, Eval(*e.dyn_args));
    SG_ASSIGN_OR_RETURN(List items, Iterate(v));
    for (Value& x : items) args.pos.push_back(std::move(x));
  }
  if (e.dyn_kwargs) {
    SG_ASSIGN_OR_RETURN(Value v, Eval(*e.dyn_kwargs));
    if (!v.is_dict()) {
      return PyError("TypeError", "argument after ** must be a mapping, not " + v.TypeName());
    }
    for (const auto& [k, x] : v.dict().items()) {
      if (!k.is_string()) return PyError("TypeError", "keywords must be strings");
      args.kw.emplace_back(k.str(), x);
    }
  }
  return args;
}

StatusOr<Value> Evaluator::EvalCall(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value callee, Eval(*e.args[0]));
  SG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
  return Call(callee, std::move(args));
}

StatusOr<Value> Evaluator::EvalCompare(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value left, Eval(*e.args[0]));
  for (size_t i = 0; i < e.ops.size(); ++i) {
    SG_ASSIGN_OR_RETURN(Value right, Eval(*e.args[i + 1]));
    SG_RETURN_IF_ERROR(Step((WorkUnits(left) + WorkUnits(right)) / 8));
    SG_ASSIGN_OR_RETURN(bool r, Compare(e.ops[i], left, right));
    if (!r) return Value::Bool(false);
    left = std::move(right);
  }
  return Value::Bool(true);
}

StatusOr<Value> Evaluator::Eval(const Expr& e) {
  DepthGuard guard(frame_depth_);
  if (guard.exceeded()) return LimitError("the template recursed too deeply");
  StatusOr<Value> v = EvalInner(e);
  // Containers nest at most this deep, so destroying, printing or comparing one stays within
  // the stack. (Namespaces, the only mutable objects, are torn down apart at the end.)
  if (v.ok() && v->depth() > kMaxBuildDepth) {
    return PyError("RecursionError", "values nest deeper than " + std::to_string(kMaxBuildDepth));
  }
  return v;
}

StatusOr<Value> Evaluator::EvalInner(const Expr& e) {
  // One small function per kind (see Exec): keeps each level of recursion's frame small.
  using K = Expr::Kind;
  switch (e.kind) {
    case K::kLiteral:
      return e.literal;
    case K::kName:
      return Lookup(e.name);
    case K::kGetAttr:
      return EvalGetAttr(e);
    case K::kGetItem:
      return EvalGetItem(e);
    case K::kSlice:
      return PyError("TemplateRuntimeError", "a slice outside of a subscript");
    case K::kCall:
      return EvalCall(e);
    case K::kFilter:
      return EvalFilter(e);
    case K::kTest:
      return EvalTest(e);
    case K::kNeg:
    case K::kPos:
      return EvalUnary(e);
    case K::kNot:
      return EvalNot(e);
    case K::kBinary:
      return EvalBinary(e);
    case K::kAnd:
    case K::kOr:
      return EvalLogic(e);
    case K::kCompare:
      return EvalCompare(e);
    case K::kCondExpr:
      return EvalCondExpr(e);
    case K::kList:
    case K::kTuple:
      return EvalSequence(e);
    case K::kDict:
      return EvalDict(e);
  }
  return PyError("TemplateRuntimeError", "unknown expression");
}

StatusOr<Value> Evaluator::EvalGetAttr(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
  return GetAttr(obj, e.name);
}

StatusOr<Value> Evaluator::EvalGetItem(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value obj, Eval(*e.args[0]));
  // Indexing a str scans it (code points).
  if (obj.is_string()) SG_RETURN_IF_ERROR(Step(WorkUnits(obj)));
  const Expr& key = *e.args[1];
  if (key.kind == Expr::Kind::kSlice) {
    Value parts[3];
    for (size_t i = 0; i < 3; ++i) {
      if (key.args[i]) {
        SG_ASSIGN_OR_RETURN(parts[i], Eval(*key.args[i]));
      } else {
        parts[i] = Value::None();
      }
    }
    SG_ASSIGN_OR_RETURN(Value r, GetSlice(obj, parts[0], parts[1], parts[2]));
    SG_RETURN_IF_ERROR(Step(WorkUnits(r) / 8));
    return r;
  }
  SG_ASSIGN_OR_RETURN(Value k, Eval(key));
  return GetItem(obj, k);
}

StatusOr<Value> Evaluator::EvalFilter(const Expr& e) {
  Value v;
  if (e.args[0]) {
    SG_ASSIGN_OR_RETURN(v, Eval(*e.args[0]));
  } else {
    v = filter_block_input_;
  }
  SG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
  return ApplyFilter(e.name, v, std::move(args));
}

StatusOr<Value> Evaluator::EvalTest(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
  SG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
  SG_ASSIGN_OR_RETURN(bool r, ApplyTest(e.name, v, std::move(args)));
  return Value::Bool(r);
}

StatusOr<Value> Evaluator::EvalUnary(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
  if (v.is_undefined()) return UndefinedUse(v);
  const bool neg = e.kind == Expr::Kind::kNeg;
  if (v.is_float()) return Value::Float(neg ? -v.float_value() : v.float_value());
  if (v.is_int() || v.is_bool()) {
    if (!neg) return Value::Int(v.int_value());
    if (v.int_value() == std::numeric_limits<int64_t>::min()) {
      return PyError("OverflowError", "integer result too large");
    }
    return Value::Int(-v.int_value());
  }
  return PyError("TypeError", std::string("bad operand type for unary ") + (neg ? "-" : "+") +
                                  ": '" + v.TypeName() + "'");
}

StatusOr<Value> Evaluator::EvalNot(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value v, Eval(*e.args[0]));
  return Value::Bool(!v.Truthy());
}

StatusOr<Value> Evaluator::EvalBinary(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value a, Eval(*e.args[0]));
  SG_ASSIGN_OR_RETURN(Value b, Eval(*e.args[1]));
  SG_ASSIGN_OR_RETURN(Value r, BinaryOp(e.name, a, b, limits_.max_output_bytes));
  if (r.is_string()) SG_RETURN_IF_ERROR(ChargeBytes(r.str().size()));
  if (r.is_sequence_like()) SG_RETURN_IF_ERROR(Step(r.list().size() / 8));
  return r;
}

StatusOr<Value> Evaluator::EvalLogic(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value a, Eval(*e.args[0]));
  const bool is_and = e.kind == Expr::Kind::kAnd;
  if (a.Truthy() != is_and) return a;  // and: a falsy left wins; or: a truthy one
  return Eval(*e.args[1]);
}

StatusOr<Value> Evaluator::EvalCondExpr(const Expr& e) {
  SG_ASSIGN_OR_RETURN(Value c, Eval(*e.args[0]));
  if (c.Truthy()) return Eval(*e.args[1]);
  if (e.args[2]) return Eval(*e.args[2]);
  return Value::Undefined("the inline if-expression on line " + std::to_string(e.line) +
                          " evaluated to false and no else section was defined.");
}

StatusOr<Value> Evaluator::EvalSequence(const Expr& e) {
  List items;
  items.reserve(e.args.size());
  for (const ExprPtr& a : e.args) {
    SG_ASSIGN_OR_RETURN(Value v, Eval(*a));
    items.push_back(std::move(v));
  }
  return e.kind == Expr::Kind::kList ? Value::MakeList(std::move(items))
                                     : Value::MakeTuple(std::move(items));
}

StatusOr<Value> Evaluator::EvalDict(const Expr& e) {
  Dict d;
  for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
    SG_ASSIGN_OR_RETURN(Value k, Eval(*e.args[i]));
    SG_ASSIGN_OR_RETURN(Value v, Eval(*e.args[i + 1]));
    std::string hk;
    if (!k.HashKey(hk)) return PyError("TypeError", "unhashable type: '" + k.TypeName() + "'");
    d.Set(k, std::move(v));
  }
  return Value::MakeDict(std::move(d));
}

}  // namespace sg::jinja
