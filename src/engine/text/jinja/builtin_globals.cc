// The global functions of transformers' chat-template environment: Jinja2's range (capped at the
// sandbox's MAX_RANGE), namespace and dict, plus transformers' raise_exception and strftime_now.
#include <cmath>
#include <ctime>

#include "engine/text/jinja/builtins.h"
#include "engine/text/jinja/evaluator.h"
#include "engine/text/jinja/operators.h"

namespace sg::jinja {
namespace {

// Jinja2's sandbox refuses larger ranges.
constexpr int64_t kMaxRange = 100000;

StatusOr<Value> Range(Evaluator& ev, CallArgs& args) {
  if (!args.kw.empty()) return PyError("TypeError", "range() takes no keyword arguments");
  if (args.pos.empty() || args.pos.size() > 3) {
    return PyError("TypeError",
                   "range expected at most 3 arguments, got " + std::to_string(args.pos.size()));
  }
  for (const Value& a : args.pos) {
    if (!a.is_int() && !a.is_bool()) {
      return PyError("TypeError",
                     Quoted(a.TypeName()) + " object cannot be interpreted as an integer");
    }
  }
  int64_t start = 0;
  int64_t stop = 0;
  int64_t step = 1;
  if (args.pos.size() == 1) {
    stop = args.pos[0].int_value();
  } else {
    start = args.pos[0].int_value();
    stop = args.pos[1].int_value();
    if (args.pos.size() == 3) step = args.pos[2].int_value();
  }
  if (step == 0) return PyError("ValueError", "range() arg 3 must not be zero");
  // Length computed in double to avoid overflow at the int64 extremes.
  const double span =
      (static_cast<double>(stop) - static_cast<double>(start)) / static_cast<double>(step);
  const double len = span > 0 ? std::ceil(span) : 0;
  if (len > static_cast<double>(kMaxRange)) {
    return PyError("OverflowError",
                   "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  SG_RETURN_IF_ERROR(ev.Step(static_cast<uint64_t>(len) / 8));
  List out;
  out.reserve(static_cast<size_t>(len));
  for (int64_t i = 0; i < static_cast<int64_t>(len); ++i)
    out.push_back(Value::Int(start + i * step));
  return Value::MakeList(std::move(out));
}

StatusOr<Value> DictFrom(CallArgs& args) {
  Dict d;
  if (args.pos.size() > 1) return PyError("TypeError", "expected at most 1 argument");
  if (args.pos.size() == 1) {
    const Value& a = args.pos[0];
    if (a.is_dict()) {
      d = a.dict();
    } else {
      SG_ASSIGN_OR_RETURN(List items, Iterate(a));
      for (const Value& item : items) {
        SG_ASSIGN_OR_RETURN(List kv, Iterate(item));
        if (kv.size() != 2) {
          return PyError("ValueError", "dictionary update sequence element has length " +
                                           std::to_string(kv.size()) + "; 2 is required");
        }
        std::string hk;
        if (!kv[0].HashKey(hk)) {
          return PyError("TypeError", "unhashable type: '" + kv[0].TypeName() + "'");
        }
        d.Set(kv[0], kv[1]);
      }
    }
  }
  for (auto& [k, v] : args.kw) d.Set(Value::Str(k), v);
  return Value::MakeDict(std::move(d));
}

StatusOr<Value> Namespace(Evaluator& ev, CallArgs& args) {
  SG_ASSIGN_OR_RETURN(Value d, DictFrom(args));
  Dict copy = d.dict();
  Value ns = Value::MakeNamespace(std::move(copy));
  ev.TrackNamespace(ns);
  return ns;
}

StatusOr<Value> DictFn(Evaluator&, CallArgs& args) { return DictFrom(args); }

StatusOr<Value> RaiseException(Evaluator&, CallArgs& args) {
  const Value m = args.Take(0, "message");
  // The template's own words, unprefixed: this is the error the caller reports.
  return InvalidArgumentError(m.ToStr());
}

StatusOr<Value> StrftimeNow(Evaluator& ev, CallArgs& args) {
  const Value f = args.Take(0, "format");
  if (!f.is_string()) {
    return PyError("TypeError", "strftime() argument 1 must be str, not " + f.TypeName());
  }
  const time_t t = static_cast<time_t>(ev.now_seconds());
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (f.str().size() > 1024) return PyError("ValueError", "format too long");
  std::string out(f.str().size() * 8 + 64, '\0');
  const size_t n =
      f.str().empty() ? 0 : std::strftime(out.data(), out.size(), f.str().c_str(), &tm);
  out.resize(n);
  return Value::Str(std::move(out));
}

}  // namespace

void AddGlobals(Scope& scope) {
  scope.vars["range"] = Value::MakeFunction("range", Range);
  scope.vars["namespace"] = Value::MakeFunction("namespace", Namespace);
  scope.vars["dict"] = Value::MakeFunction("dict", DictFn);
  scope.vars["raise_exception"] = Value::MakeFunction("raise_exception", RaiseException);
  scope.vars["strftime_now"] = Value::MakeFunction("strftime_now", StrftimeNow);
}

}  // namespace sg::jinja
