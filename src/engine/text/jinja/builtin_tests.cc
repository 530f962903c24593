// Jinja2's built-in tests (`x is defined`, `x is divisibleby 3`, ...), Python semantics: a bool
// is a number but not an integer; Undefined is iterable; a str is a sequence.
#include <unordered_map>

#include "engine/text/jinja/builtins.h"
#include "engine/text/jinja/evaluator.h"
#include "engine/text/jinja/operators.h"
#include "engine/text/jinja/py_string.h"

namespace sg::jinja {
namespace {

using K = Value::Kind;

StatusOr<bool> TDefined(Evaluator&, const Value& v, CallArgs&) { return !v.is_undefined(); }
StatusOr<bool> TUndefined(Evaluator&, const Value& v, CallArgs&) { return v.is_undefined(); }
StatusOr<bool> TNone(Evaluator&, const Value& v, CallArgs&) { return v.is_none(); }
StatusOr<bool> TBoolean(Evaluator&, const Value& v, CallArgs&) { return v.is_bool(); }
StatusOr<bool> TTrue(Evaluator&, const Value& v, CallArgs&) {
  return v.is_bool() && v.bool_value();
}
StatusOr<bool> TFalse(Evaluator&, const Value& v, CallArgs&) {
  return v.is_bool() && !v.bool_value();
}
StatusOr<bool> TString(Evaluator&, const Value& v, CallArgs&) { return v.is_string(); }
StatusOr<bool> TNumber(Evaluator&, const Value& v, CallArgs&) { return v.is_number(); }
StatusOr<bool> TInteger(Evaluator&, const Value& v, CallArgs&) { return v.is_int(); }
StatusOr<bool> TFloat(Evaluator&, const Value& v, CallArgs&) { return v.is_float(); }
StatusOr<bool> TMapping(Evaluator&, const Value& v, CallArgs&) { return v.is_dict(); }
StatusOr<bool> TCallable(Evaluator&, const Value& v, CallArgs&) { return v.is_function(); }
StatusOr<bool> TIterable(Evaluator&, const Value& v, CallArgs&) {
  switch (v.kind()) {
    case K::kUndefined:
    case K::kString:
    case K::kList:
    case K::kTuple:
    case K::kDict:
    case K::kGenerator:
    case K::kLoop:
      return true;
    default:
      return false;
  }
}
StatusOr<bool> TSequence(Evaluator&, const Value& v, CallArgs&) {
  return v.is_undefined() || v.is_string() || v.is_sequence_like() || v.is_dict();
}
StatusOr<bool> TEscaped(Evaluator&, const Value&, CallArgs&) { return false; }

StatusOr<bool> TLower(Evaluator&, const Value& v, CallArgs&) { return py::IsLower(v.ToStr()); }
StatusOr<bool> TUpper(Evaluator&, const Value& v, CallArgs&) { return py::IsUpper(v.ToStr()); }

StatusOr<bool> Mod(const Value& v, const Value& n, bool want_zero) {
  SG_ASSIGN_OR_RETURN(Value r, BinaryOp("%", v, n, 1 << 20));
  return r.Truthy() != want_zero;
}
StatusOr<bool> TOdd(Evaluator&, const Value& v, CallArgs&) { return Mod(v, Value::Int(2), false); }
StatusOr<bool> TEven(Evaluator&, const Value& v, CallArgs&) { return Mod(v, Value::Int(2), true); }
StatusOr<bool> TDivisibleBy(Evaluator&, const Value& v, CallArgs& args) {
  return Mod(v, args.Take(0, "num"), true);
}

template <const char* kOp>
StatusOr<bool> TCompare(Evaluator&, const Value& v, CallArgs& args) {
  return Compare(kOp, v, args.Take(0, "other"));
}
constexpr char kEq[] = "==";
constexpr char kNe[] = "!=";
constexpr char kLt[] = "<";
constexpr char kLe[] = "<=";
constexpr char kGt[] = ">";
constexpr char kGe[] = ">=";

StatusOr<bool> TIn(Evaluator&, const Value& v, CallArgs& args) {
  return Contains(args.Take(0, "seq"), v);
}

StatusOr<bool> TSameAs(Evaluator&, const Value& v, CallArgs& args) {
  const Value other = args.Take(0, "other");
  if (v.kind() != other.kind()) return false;
  switch (v.kind()) {
    case K::kNone:
    case K::kUndefined:
      return true;
    case K::kBool:
      return v.bool_value() == other.bool_value();
    case K::kInt:
      // CPython caches small ints, so `is` holds for them.
      return v.int_value() == other.int_value() && v.int_value() >= -5 && v.int_value() <= 256;
    case K::kString:
    case K::kList:
    case K::kTuple:
    case K::kDict:
    case K::kNamespace:
      return &v.list() == &other.list();
    default:
      return false;
  }
}

StatusOr<bool> TFilter(Evaluator&, const Value& v, CallArgs&) {
  return v.is_string() && FindFilter(v.str()) != nullptr;
}
StatusOr<bool> TTest(Evaluator&, const Value& v, CallArgs&) {
  return v.is_string() && FindTest(v.str()) != nullptr;
}

const std::unordered_map<std::string_view, TestFn>& Tests() {
  static const auto* kTests = new std::unordered_map<std::string_view, TestFn>{
      {"boolean", TBoolean},
      {"callable", TCallable},
      {"defined", TDefined},
      {"divisibleby", TDivisibleBy},
      {"eq", TCompare<kEq>},
      {"equalto", TCompare<kEq>},
      {"==", TCompare<kEq>},
      {"escaped", TEscaped},
      {"even", TEven},
      {"false", TFalse},
      {"filter", TFilter},
      {"float", TFloat},
      {"ge", TCompare<kGe>},
      {">=", TCompare<kGe>},
      {"gt", TCompare<kGt>},
      {">", TCompare<kGt>},
      {"greaterthan", TCompare<kGt>},
      {"in", TIn},
      {"integer", TInteger},
      {"iterable", TIterable},
      {"le", TCompare<kLe>},
      {"<=", TCompare<kLe>},
      {"lower", TLower},
      {"lt", TCompare<kLt>},
      {"<", TCompare<kLt>},
      {"lessthan", TCompare<kLt>},
      {"mapping", TMapping},
      {"ne", TCompare<kNe>},
      {"!=", TCompare<kNe>},
      {"none", TNone},
      {"number", TNumber},
      {"odd", TOdd},
      {"sameas", TSameAs},
      {"sequence", TSequence},
      {"string", TString},
      {"test", TTest},
      {"true", TTrue},
      {"undefined", TUndefined},
      {"upper", TUpper},
  };
  return *kTests;
}

}  // namespace

TestFn FindTest(std::string_view name) {
  const auto& t = Tests();
  auto it = t.find(name);
  return it == t.end() ? nullptr : it->second;
}

}  // namespace sg::jinja
