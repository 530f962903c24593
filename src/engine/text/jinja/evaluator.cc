#include "engine/text/jinja/evaluator.h"

#include <limits>

#include "engine/text/jinja/builtins.h"
#include "engine/text/jinja/operators.h"

namespace sg::jinja {
namespace {

Status LimitError(const std::string& what) { return ResourceExhaustedError(what); }

}  // namespace

Evaluator::Evaluator(const EvalLimits& limits, int64_t now_seconds)
    : limits_(limits), now_seconds_(now_seconds) {}

Evaluator::~Evaluator() {
  for (const auto& s : closure_scopes_) s->vars.clear();
  for (const Value& ns : namespaces_) ns.mutable_namespace().Clear();
}

StatusOr<std::string> Evaluator::Render(const Body& body, const Value& context) {
  auto globals = std::make_shared<Scope>();
  AddGlobals(*globals);
  auto ctx = std::make_shared<Scope>();
  ctx->parent = globals;
  if (context.is_dict()) {
    for (const auto& [k, v] : context.dict().items()) {
      if (k.is_string()) ctx->vars[k.str()] = v;
    }
  }
  scope_ = std::make_shared<Scope>();
  scope_->parent = ctx;
  std::string out;
  StatusOr<Flow> r = ExecBody(body, out);
  // Break the macro <-> scope reference cycles.
  for (const auto& s : closure_scopes_) s->vars.clear();
  closure_scopes_.clear();
  for (const Value& ns : namespaces_) ns.mutable_namespace().Clear();
  namespaces_.clear();
  scope_.reset();
  if (!r.ok()) return r.status();
  return out;
}

Status Evaluator::Step(uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    return LimitError("the template ran more than " + std::to_string(limits_.max_steps) +
                      " steps (loop iterations and calls)");
  }
  return OkStatus();
}

Status Evaluator::ChargeBytes(size_t bytes) {
  if (bytes > limits_.max_output_bytes) {
    return LimitError("the template built a value larger than the output limit (" +
                      std::to_string(limits_.max_output_bytes) + " bytes)");
  }
  return Step(bytes / 64);
}

Status Evaluator::Append(std::string& out, std::string_view text) {
  if (out.size() + text.size() > limits_.max_output_bytes) {
    return LimitError("the output exceeds the limit of " +
                      std::to_string(limits_.max_output_bytes) + " bytes");
  }
  SG_RETURN_IF_ERROR(Step(text.size() / 64));
  out.append(text);
  return OkStatus();
}

// ---- statements ----

StatusOr<Evaluator::Flow> Evaluator::ExecBody(const Body& body, std::string& out) {
  for (const StmtPtr& s : body) {
    SG_ASSIGN_OR_RETURN(Flow f, Exec(*s, out));
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

StatusOr<Evaluator::Flow> Evaluator::Exec(const Stmt& s, std::string& out) {
  // Each kind runs in a function of its own: this frame stays small, which bounds the stack a
  // deeply recursive template uses (Debug+ASan frames of one big switch are kilobytes).
  DepthGuard guard(frame_depth_);
  if (guard.exceeded()) return LimitError("the template recursed too deeply");
  switch (s.kind) {
    case Stmt::Kind::kText:
      SG_RETURN_IF_ERROR(Append(out, s.text));
      return Flow::kNormal;
    case Stmt::Kind::kPrint:
      SG_RETURN_IF_ERROR(ExecPrint(s, out));
      return Flow::kNormal;
    case Stmt::Kind::kIf:
      return ExecIf(s, out);
    case Stmt::Kind::kFor:
      SG_RETURN_IF_ERROR(ExecForScoped(s, out));
      return Flow::kNormal;
    case Stmt::Kind::kSet:
      SG_RETURN_IF_ERROR(ExecSetValue(s));
      return Flow::kNormal;
    case Stmt::Kind::kSetBlock:
    case Stmt::Kind::kFilterBlock:
      SG_RETURN_IF_ERROR(ExecCapture(s, out));
      return Flow::kNormal;
    case Stmt::Kind::kMacro:
      scope_->vars[s.macro->name] = MakeMacro(s.macro);
      return Flow::kNormal;
    case Stmt::Kind::kCallBlock:
      SG_RETURN_IF_ERROR(ExecCallBlock(s, out));
      return Flow::kNormal;
    case Stmt::Kind::kBreak:
      return Flow::kBreak;
    case Stmt::Kind::kContinue:
      return Flow::kContinue;
    case Stmt::Kind::kWith:
      return ExecWith(s, out);
    case Stmt::Kind::kPassBody:
      return ExecBody(s.body, out);
  }
  return Flow::kNormal;
}

Status Evaluator::ExecPrint(const Stmt& s, std::string& out) {
  SG_ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
  if (v.is_string()) return Append(out, v.str());
  return Append(out, v.ToStr(limits_.max_output_bytes + 1));
}

StatusOr<Evaluator::Flow> Evaluator::ExecIf(const Stmt& s, std::string& out) {
  for (const auto& [cond, branch] : s.branches) {
    SG_ASSIGN_OR_RETURN(Value c, Eval(*cond));
    if (c.Truthy()) return ExecBody(branch, out);
  }
  return ExecBody(s.else_body, out);
}

Status Evaluator::ExecForScoped(const Stmt& s, std::string& out) {
  std::shared_ptr<Scope> saved = scope_;
  Status st = ExecFor(s, out);
  scope_ = std::move(saved);
  return st;
}

Status Evaluator::ExecSetValue(const Stmt& s) {
  SG_ASSIGN_OR_RETURN(Value v, Eval(*s.expr));
  return Bind(*s.target, v);
}

Status Evaluator::ExecCapture(const Stmt& s, std::string& out) {
  std::string buf;
  SG_ASSIGN_OR_RETURN(Flow f, ExecBody(s.body, buf));
  (void)f;
  Value v = Value::Str(std::move(buf));
  if (s.filter) {
    filter_block_input_ = std::move(v);
    SG_ASSIGN_OR_RETURN(v, Eval(*s.filter));
    filter_block_input_ = Value();
  }
  if (s.kind == Stmt::Kind::kFilterBlock) {
    return Append(out, v.ToStr(limits_.max_output_bytes + 1));
  }
  return Bind(*s.target, v);
}

Status Evaluator::ExecCallBlock(const Stmt& s, std::string& out) {
  const Expr& call = *s.expr;
  SG_ASSIGN_OR_RETURN(Value callee, Eval(*call.args[0]));
  SG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call, 1));
  args.kw.emplace_back("caller", MakeMacro(s.macro));
  SG_ASSIGN_OR_RETURN(Value v, Call(callee, std::move(args)));
  return Append(out, v.ToStr(limits_.max_output_bytes + 1));
}

StatusOr<Evaluator::Flow> Evaluator::ExecWith(const Stmt& s, std::string& out) {
  auto inner = std::make_shared<Scope>();
  inner->parent = scope_;
  for (const auto& [target, value] : s.assignments) {
    SG_ASSIGN_OR_RETURN(Value v, Eval(*value));
    std::shared_ptr<Scope> saved = scope_;
    scope_ = inner;
    Status st = Bind(*target, v);
    scope_ = std::move(saved);
    SG_RETURN_IF_ERROR(st);
  }
  std::shared_ptr<Scope> saved = scope_;
  scope_ = inner;
  StatusOr<Flow> f = ExecBody(s.body, out);
  scope_ = std::move(saved);
  return f;
}

Status Evaluator::ExecFor(const Stmt& s, std::string& out) {
  SG_RETURN_IF_ERROR(Step());
  SG_ASSIGN_OR_RETURN(Value iterable, Eval(*s.expr));
  SG_RETURN_IF_ERROR(Step(WorkUnits(iterable) / 8));
  SG_ASSIGN_OR_RETURN(List items, Iterate(iterable));
  std::shared_ptr<Scope> outer = scope_;
  if (s.cond) {
    List kept;
    for (Value& item : items) {
      SG_RETURN_IF_ERROR(Step());
      scope_ = std::make_shared<Scope>();
      scope_->parent = outer;
      SG_RETURN_IF_ERROR(Bind(*s.target, item));
      SG_ASSIGN_OR_RETURN(Value c, Eval(*s.cond));
      if (c.Truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  auto shared_items = std::make_shared<const List>(std::move(items));
  LoopState state;
  state.length = static_cast<int64_t>(shared_items->size());
  state.items = shared_items;
  const Value loop = Value::MakeLoop(std::move(state));
  ++loop_nesting_;
  for (size_t i = 0; i < shared_items->size(); ++i) {
    Status st = Step();
    if (!st.ok()) {
      --loop_nesting_;
      return st;
    }
    loop.loop().index0 = static_cast<int64_t>(i);
    scope_ = std::make_shared<Scope>();
    scope_->parent = outer;
    scope_->vars["loop"] = loop;
    st = Bind(*s.target, (*shared_items)[i]);
    StatusOr<Flow> f = st.ok() ? ExecBody(s.body, out) : StatusOr<Flow>(st);
    if (!f.ok()) {
      --loop_nesting_;
      return f.status();
    }
    if (*f == Flow::kBreak) break;
  }
  --loop_nesting_;
  scope_ = outer;
  if (shared_items->empty() && !s.else_body.empty()) {
    SG_ASSIGN_OR_RETURN(Flow f, ExecBody(s.else_body, out));
    (void)f;
  }
  return OkStatus();
}

Status Evaluator::Bind(const Expr& target, const Value& value) {
  switch (target.kind) {
    case Expr::Kind::kName:
      scope_->vars[target.name] = value;
      return OkStatus();
    case Expr::Kind::kTuple: {
      SG_RETURN_IF_ERROR(Step(WorkUnits(value) / 8));
      SG_ASSIGN_OR_RETURN(List items, Iterate(value));
      const size_t want = target.args.size();
      if (items.size() < want) {
        return PyError("ValueError", "not enough values to unpack (expected " +
                                         std::to_string(want) + ", got " +
                                         std::to_string(items.size()) + ")");
      }
      if (items.size() > want) {
        return PyError("ValueError",
                       "too many values to unpack (expected " + std::to_string(want) + ")");
      }
      for (size_t i = 0; i < want; ++i) SG_RETURN_IF_ERROR(Bind(*target.args[i], items[i]));
      return OkStatus();
    }
    case Expr::Kind::kGetAttr: {
      const Value ns = Lookup(target.args[0]->name);
      if (!ns.is_namespace()) {
        return PyError("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
      }
      ns.mutable_namespace().Set(Value::Str(target.name), value);
      return OkStatus();
    }
    default:
      return PyError("TemplateRuntimeError", "cannot assign to this expression");
  }
}

Value Evaluator::Lookup(const std::string& name) const {
  for (const Scope* s = scope_.get(); s != nullptr; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return it->second;
  }
  return Value::Undefined(Quoted(name) + " is undefined");
}

// ---- macros and calls ----

Value Evaluator::MakeMacro(const std::shared_ptr<const MacroDef>& def) {
  std::shared_ptr<Scope> closure = scope_;
  if (closure_scopes_.empty() || closure_scopes_.back() != closure) {
    closure_scopes_.push_back(closure);
  }
  return Value::MakeFunction(
      def->name,
      [def, closure](Evaluator& ev, CallArgs& args) { return ev.CallMacro(*def, closure, args); },
      /*is_macro=*/true);
}

StatusOr<Value> Evaluator::CallMacro(const MacroDef& def, const std::shared_ptr<Scope>& closure,
                                     CallArgs& args) {
  if (macro_depth_ >= limits_.max_depth) {
    return LimitError("macro calls nest deeper than " + std::to_string(limits_.max_depth));
  }
  auto scope = std::make_shared<Scope>();
  scope->parent = closure;
  std::shared_ptr<Scope> saved = scope_;
  scope_ = scope;
  ++macro_depth_;
  struct Restore {
    Evaluator* ev;
    std::shared_ptr<Scope> saved;
    ~Restore() {
      ev->scope_ = std::move(saved);
      --ev->macro_depth_;
    }
  } restore{this, std::move(saved)};

  const size_t npos = args.pos.size();
  for (size_t i = 0; i < def.params.size(); ++i) {
    const std::string& p = def.params[i];
    Value v;
    bool have = false;
    if (i < npos) {
      v = args.pos[i];
      have = true;
    }
    for (auto it = args.kw.begin(); it != args.kw.end(); ++it) {
      if (it->first == p) {
        if (have) {
          return PyError("TypeError",
                         "macro '" + def.name + "' got multiple values for argument '" + p + "'");
        }
        v = std::move(it->second);
        have = true;
        args.kw.erase(it);
        break;
      }
    }
    if (!have) {
      if (def.defaults[i]) {
        SG_ASSIGN_OR_RETURN(v, Eval(*def.defaults[i]));
      } else {
        v = Value::Undefined("parameter '" + p + "' was not provided");
      }
    }
    scope->vars[p] = std::move(v);
  }
  if (npos > def.params.size()) {
    if (!def.uses_varargs) {
      return PyError("TypeError", "macro '" + def.name + "' takes not more than " +
                                      std::to_string(def.params.size()) + " argument(s)");
    }
    scope->vars["varargs"] = Value::MakeTuple(
        List(args.pos.begin() + static_cast<std::ptrdiff_t>(def.params.size()), args.pos.end()));
  } else if (def.uses_varargs) {
    scope->vars["varargs"] = Value::MakeTuple({});
  }
  Dict kwargs;
  for (auto& [k, v] : args.kw) {
    if (k == "caller") {
      if (!def.uses_caller) {
        return PyError("TypeError", "macro '" + def.name + "' takes no keyword argument 'caller'");
      }
      scope->vars["caller"] = v;
      continue;
    }
    if (!def.uses_kwargs) {
      return PyError("TypeError", "macro '" + def.name + "' takes no keyword argument '" + k + "'");
    }
    kwargs.Set(Value::Str(k), v);
  }
  if (def.uses_kwargs) scope->vars["kwargs"] = Value::MakeDict(std::move(kwargs));
  std::string out;
  SG_ASSIGN_OR_RETURN(Flow f, ExecBody(def.body, out));
  (void)f;
  return Value::Str(std::move(out));
}

StatusOr<Value> Evaluator::Call(const Value& callee, CallArgs args) {
  if (callee.is_undefined()) return UndefinedUse(callee);
  if (!callee.is_function()) {
    return PyError("TypeError", Quoted(callee.TypeName()) + " object is not callable");
  }
  DepthGuard guard(frame_depth_);
  if (guard.exceeded()) return LimitError("the template recursed too deeply");
  uint64_t work = callee.function().cost;
  for (const Value& a : args.pos) work += WorkUnits(a);
  for (const auto& [k, a] : args.kw) work += WorkUnits(a);
  SG_RETURN_IF_ERROR(Step(1 + work / 8));
  return callee.function().fn(*this, args);
}

StatusOr<Value> Evaluator::ApplyFilter(std::string_view name, const Value& v, CallArgs args) {
  FilterFn f = FindFilter(name);
  if (f == nullptr) {
    return PyError("TemplateRuntimeError", "No filter named '" + std::string(name) + "' found.");
  }
  uint64_t work = WorkUnits(v);
  for (const Value& a : args.pos) work += WorkUnits(a);
  SG_RETURN_IF_ERROR(Step(1 + work / 8));
  return f(*this, v, args);
}

StatusOr<bool> Evaluator::ApplyTest(std::string_view name, const Value& v, CallArgs args) {
  TestFn t = FindTest(name);
  if (t == nullptr) {
    return PyError("TemplateRuntimeError", "No test named '" + std::string(name) + "' found.");
  }
  uint64_t work = WorkUnits(v);
  for (const Value& a : args.pos) work += WorkUnits(a);
  SG_RETURN_IF_ERROR(Step(1 + work / 8));
  return t(*this, v, args);
}

}  // namespace sg::jinja
