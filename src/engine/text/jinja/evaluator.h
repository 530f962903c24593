// Renders a parsed template: Jinja2's scoping (a for-loop iteration, a macro call and a with block
// each get a scope; if does not), loop controls, macros with closures and caller(), and the
// limits that keep a hostile template from hanging or exhausting memory.
// Thread rules: one Evaluator per render, used by one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/status.h"
#include "engine/text/jinja/ast.h"
#include "engine/text/jinja/value.h"

namespace sg::jinja {

struct EvalLimits {
  size_t max_output_bytes = 1 << 20;
  uint64_t max_steps = 2'000'000;
  int max_depth = 100;  // nested macro calls
};

// A variable scope; lookups walk to the parent.
struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
};

class Evaluator {
 public:
  // NOW: the time strftime_now() formats (seconds since the epoch, read as local time).
  Evaluator(const EvalLimits& limits, int64_t now_seconds);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Renders BODY with CONTEXT (a dict: the template's variables).
  StatusOr<std::string> Render(const Body& body, const Value& context);

  // ---- for filters, tests, methods and globals ----

  // Counts N steps against max_steps (loop iterations, calls, and work proportional to size).
  Status Step(uint64_t n = 1);
  // Charges the work of building a string or list of BYTES bytes; refuses one past the limit.
  Status ChargeBytes(size_t bytes);
  size_t max_bytes() const { return limits_.max_output_bytes; }
  int64_t now_seconds() const { return now_seconds_; }

  StatusOr<Value> Call(const Value& callee, CallArgs args);
  StatusOr<Value> ApplyFilter(std::string_view name, const Value& v, CallArgs args);
  StatusOr<bool> ApplyTest(std::string_view name, const Value& v, CallArgs args);
  // Registers a namespace made by this render: Render empties them all at the end, which breaks
  // any cycle through them (ns.self = ns) and any long chain of them without recursion.
  void TrackNamespace(const Value& ns) { namespaces_.push_back(ns); }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  // Keeps the evaluator's own recursion (statements, expressions and calls together) bounded,
  // so that no template can overflow the stack however its macros recurse.
  class DepthGuard {
   public:
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    bool exceeded() const { return d_ > kMaxFrames; }

   private:
    int& d_;
  };
  static constexpr int kMaxFrames = 1000;
  // Deepest nesting of lists, tuples and dicts a template may build.
  static constexpr int kMaxBuildDepth = 512;

  StatusOr<Flow> ExecBody(const Body& body, std::string& out);
  StatusOr<Flow> Exec(const Stmt& s, std::string& out);
  Status ExecPrint(const Stmt& s, std::string& out);
  StatusOr<Flow> ExecIf(const Stmt& s, std::string& out);
  Status ExecForScoped(const Stmt& s, std::string& out);
  Status ExecFor(const Stmt& s, std::string& out);
  Status ExecSetValue(const Stmt& s);
  Status ExecCapture(const Stmt& s, std::string& out);
  Status ExecCallBlock(const Stmt& s, std::string& out);
  StatusOr<Flow> ExecWith(const Stmt& s, std::string& out);
  Status Append(std::string& out, std::string_view text);

  StatusOr<Value> Eval(const Expr& e);
  StatusOr<Value> EvalInner(const Expr& e);
  StatusOr<CallArgs> EvalArgs(const Expr& e, size_t first);
  StatusOr<Value> EvalCall(const Expr& e);
  StatusOr<Value> EvalCompare(const Expr& e);
  StatusOr<Value> EvalGetAttr(const Expr& e);
  StatusOr<Value> EvalGetItem(const Expr& e);
  StatusOr<Value> EvalFilter(const Expr& e);
  StatusOr<Value> EvalTest(const Expr& e);
  StatusOr<Value> EvalUnary(const Expr& e);
  StatusOr<Value> EvalNot(const Expr& e);
  StatusOr<Value> EvalBinary(const Expr& e);
  StatusOr<Value> EvalLogic(const Expr& e);
  StatusOr<Value> EvalCondExpr(const Expr& e);
  StatusOr<Value> EvalSequence(const Expr& e);
  StatusOr<Value> EvalDict(const Expr& e);

  Status Bind(const Expr& target, const Value& value);
  Value Lookup(const std::string& name) const;
  Value MakeMacro(const std::shared_ptr<const MacroDef>& def);
  StatusOr<Value> CallMacro(const MacroDef& def, const std::shared_ptr<Scope>& closure,
                            CallArgs& args);

  EvalLimits limits_;
  int64_t now_seconds_;
  uint64_t steps_ = 0;
  uint64_t byte_work_ = 0;
  int macro_depth_ = 0;
  int frame_depth_ = 0;
  std::shared_ptr<Scope> scope_;
  // Scopes that a macro closes over. The macro lives in (or below) such a scope, a reference
  // cycle, which Render breaks at the end by clearing them.
  std::vector<std::shared_ptr<Scope>> closure_scopes_;
  std::vector<Value> namespaces_;
  // The value a filter block's filter chain applies to (its chain has a null operand).
  Value filter_block_input_;
  int loop_nesting_ = 0;
};

}  // namespace sg::jinja
