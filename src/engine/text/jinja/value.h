// The runtime value of the Jinja engine: Python's object model as far as chat templates use it
// (None, bool, int, float, str, list, tuple, dict, Jinja's Undefined, namespace, the loop object,
// generators from select/map filters, callables). Strings are UTF-8; containers are shared and
// immutable once built (the sandbox forbids list.append and friends), except a namespace's
// attributes, which `{% set ns.x = ... %}` changes in place.
// Thread rules: values of one render are used by that render's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/core/status.h"
#include "engine/text/jinja/html_escape.h"

namespace sg::jinja {

class Value;
class Evaluator;
struct CallArgs;

using List = std::vector<Value>;

// Default bound on the text of one repr() (see Value::ToStr).
inline constexpr size_t kReprLimit = size_t{1} << 24;
// Containers nested deeper than this print as "[...]", compare unequal and are unhashable:
// the recursive helpers stay within the stack.
inline constexpr int kMaxValueDepth = 256;

class Dict;

// A Python generator: items are computed eagerly but consumed once, as Jinja2's select/map
// generators are (a second loop over the same generator sees nothing).
struct Generator {
  List items;
  size_t pos = 0;
};

// The `loop` variable of a for loop.
struct LoopState {
  int64_t index0 = 0;
  int64_t length = 0;
  int64_t depth0 = 0;
  std::shared_ptr<const List> items;  // the (filtered) items, for previtem / nextitem
};

// Why an Undefined exists; the text Python's UndefinedError (or SecurityError) would carry.
struct UndefinedInfo {
  std::string message;
  bool security = false;  // using it raises SecurityError (a sandbox-blocked attribute)
};

using NativeFn = std::function<StatusOr<Value>(Evaluator&, CallArgs&)>;

struct Function {
  std::string name;
  NativeFn fn;
  bool is_macro = false;
  uint64_t cost = 0;  // work units charged per call (a bound method: its receiver's size)
};

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kTuple,
    kDict,
    kNamespace,
    kLoop,
    kGenerator,
    kFunction,
  };

  Value() = default;  // Undefined without a hint
  static Value Undefined(std::string message = "", bool security = false);
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double f);
  static Value Str(std::string s);
  // A markupsafe.Markup string (from |safe or |escape): `+` with a plain str escapes the str.
  static Value Markup(std::string s);
  static Value MakeList(List items);
  static Value MakeTuple(List items);
  static Value MakeDict(Dict d);
  static Value MakeNamespace(Dict d);
  static Value MakeLoop(LoopState s);
  static Value MakeGenerator(List items);
  static Value MakeFunction(std::string name, NativeFn fn, bool is_macro = false, uint64_t cost = 0,
                            int depth = 0);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }  // not bool
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python Number
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_markup() const { return kind_ == Kind::kString && b_; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kTuple; }
  bool is_sequence_like() const { return is_list() || is_tuple(); }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_loop() const { return kind_ == Kind::kLoop; }
  bool is_generator() const { return kind_ == Kind::kGenerator; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  // Nesting depth of a list, tuple, dict, generator, loop or bound method (1 + its deepest
  // element's); 0 for scalars and namespaces (see Evaluator::TrackNamespace).
  int depth() const { return depth_; }
  bool bool_value() const { return b_; }
  int64_t int_value() const { return i_; }  // also bool as 0/1
  double float_value() const { return f_; }
  // Numeric value of a bool, int or float as double.
  double AsDouble() const;
  const std::string& str() const { return *static_cast<const std::string*>(p_.get()); }
  const List& list() const { return *static_cast<const List*>(p_.get()); }  // list or tuple
  const Dict& dict() const { return *static_cast<const Dict*>(p_.get()); }  // dict or namespace
  Dict& mutable_namespace() const { return *static_cast<Dict*>(p_.get()); }
  LoopState& loop() const { return *static_cast<LoopState*>(p_.get()); }
  Generator& generator() const { return *static_cast<Generator*>(p_.get()); }
  const Function& function() const { return *static_cast<const Function*>(p_.get()); }
  const UndefinedInfo* undefined_info() const {
    return static_cast<const UndefinedInfo*>(p_.get());
  }

  // Python truthiness (Undefined is false; a generator is always true).
  bool Truthy() const;
  // Python str(): what `{{ x }}` prints. Undefined prints "". A container's text stops growing
  // once it passes LIMIT bytes (the caller's size check then refuses it), so printing a huge or
  // deeply nested value cannot exhaust memory or the stack.
  std::string ToStr(size_t limit = kReprLimit) const;
  // Python repr().
  std::string Repr(size_t limit = kReprLimit) const;
  void AppendRepr(std::string& out, size_t limit = kReprLimit, int depth = 0) const;
  // Python type name as in error messages: "str", "list", "dict", "NoneType", "int", ...
  std::string TypeName() const;
  // Jinja's object_type_repr: "None", "str object", "list object", ...
  std::string ObjectTypeRepr() const;
  // Canonical key for dict lookup; false if unhashable (list, dict).
  bool HashKey(std::string& key, int depth = 0) const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;  // a bool's value; for a str: is it Markup
  int64_t i_ = 0;
  double f_ = 0;
  int depth_ = 0;
  // The payload of str, list/tuple, dict/namespace, loop, generator, function, undefined-info.
  std::shared_ptr<void> p_;
};

// Insertion-ordered dict with Python key equality (1 == 1.0 == True share a slot).
class Dict {
 public:
  const Value* Find(const Value& key) const;
  // Inserts or replaces (keeping the original position, as Python does).
  void Set(const Value& key, Value value);
  void Clear() {
    items_.clear();
    index_.clear();
  }
  size_t size() const { return items_.size(); }
  const std::vector<std::pair<Value, Value>>& items() const { return items_; }

 private:
  std::vector<std::pair<Value, Value>> items_;
  std::unordered_map<std::string, size_t> index_;
};

// Python ==.
bool Equals(const Value& a, const Value& b, int depth = 0);

// Call arguments: positional then keyword, as written.
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;

  // Takes the argument at POSITION or named NAME (removing it); Undefined if absent.
  Value Take(size_t position, std::string_view name);
  bool Has(size_t position, std::string_view name) const;
};

// "'" + S + "'" (written so that GCC 12's -Wrestrict false positive on "x" + string stays quiet).
std::string Quoted(std::string_view s);

// Python repr of a string (quotes chosen as Python does, non-printables escaped).
void AppendStringRepr(std::string_view s, std::string& out);
// Python repr / str of a float ("1.0", "1e+16", "0.1", "inf", "nan").
std::string FloatRepr(double f);

}  // namespace sg::jinja
