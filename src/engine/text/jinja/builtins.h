// Jinja2's built-in filters and tests, and the globals of transformers' chat-template environment
// (range, namespace, dict, raise_exception, strftime_now, cycler-free subset), with Python
// semantics. Each kind lives in its own file: builtin_filters.cc, builtin_tests.cc,
// builtin_globals.cc.
#pragma once

#include <string_view>

#include "engine/core/status.h"
#include "engine/text/jinja/value.h"

namespace sg::jinja {

struct Scope;

using FilterFn = StatusOr<Value> (*)(Evaluator& ev, const Value& v, CallArgs& args);
using TestFn = StatusOr<bool> (*)(Evaluator& ev, const Value& v, CallArgs& args);

// The filter / test named NAME, or null.
FilterFn FindFilter(std::string_view name);
TestFn FindTest(std::string_view name);

// Puts the global functions into SCOPE.
void AddGlobals(Scope& scope);

}  // namespace sg::jinja
