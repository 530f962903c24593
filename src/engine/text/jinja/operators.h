// Python's operators and protocols on Values, with Jinja2's sandbox rules: arithmetic, comparison,
// `in`, iteration, attribute and item access (getattr first for `x.y`, getitem first for
// `x[y]`), slicing. Errors carry the Python exception name and message: "TypeError: ...".
#pragma once

#include <string>
#include <string_view>

#include "engine/core/status.h"
#include "engine/text/jinja/value.h"

namespace sg::jinja {

// "<Class>: <message>", the form every runtime error takes.
inline Status PyError(std::string_view cls, const std::string& message) {
  return InvalidArgumentError(std::string(cls) + ": " + message);
}
// The error of using an Undefined (UndefinedError, or SecurityError for a blocked attribute).
Status UndefinedUse(const Value& undefined);
// Undefined explaining that OBJ has no attribute / element KEY.
Value MissingMember(const Value& obj, const Value& key);

// Iterates V as Python's iter() does: list/tuple items, dict keys, str code points, a generator's
// remaining items (consuming it). Undefined iterates as empty. Others: TypeError.
StatusOr<List> Iterate(const Value& v);

// `obj.name` (Jinja2's sandboxed getattr).
StatusOr<Value> GetAttr(const Value& obj, std::string_view name);
// `obj[key]` (Jinja2's getitem); KEY may be a slice given as a tuple-less triple below.
StatusOr<Value> GetItem(const Value& obj, const Value& key);
// obj[start:stop:step]; each bound may be None/Undefined (absent).
StatusOr<Value> GetSlice(const Value& obj, const Value& start, const Value& stop,
                         const Value& step);

// Binary operator OP: + - * / // % ** ~. MAX_BYTES bounds a string or list the operator builds
// (a repeat or a concatenation): past it, ResourceExhausted.
StatusOr<Value> BinaryOp(std::string_view op, const Value& a, const Value& b, size_t max_bytes);
// Comparison OP: == != < <= > >= in notin.
StatusOr<bool> Compare(std::string_view op, const Value& a, const Value& b);
// `item in container`.
StatusOr<bool> Contains(const Value& container, const Value& item);
// Python's a < b (TypeError for unorderable kinds).
StatusOr<bool> LessThan(const Value& a, const Value& b, int depth = 0);

// The work an operation over V costs, in elements: str bytes / 64, list/tuple/dict sizes, a
// generator's remaining items. Charged against the step limit so that no loop can do quadratic
// work on big values unbounded.
uint64_t WorkUnits(const Value& v);

// Python's len(): str code points, list/tuple/dict sizes; TypeError otherwise (0 for Undefined).
StatusOr<int64_t> Length(const Value& v);

}  // namespace sg::jinja
