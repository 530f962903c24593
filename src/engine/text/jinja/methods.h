// Methods of Python's str, dict and list that templates call (`s.strip()`, `d.items()`,
// `d.get(k)`), as bound-method Values. Mutating methods of list and dict exist but are blocked as
// Jinja2's ImmutableSandboxedEnvironment blocks them: the attribute is an Undefined whose use
// raises SecurityError.
#pragma once

#include <optional>
#include <string_view>

#include "engine/text/jinja/value.h"

namespace sg::jinja {

// OBJ.NAME when NAME is a method of OBJ's type; nullopt otherwise.
std::optional<Value> FindMethod(const Value& obj, std::string_view name);

}  // namespace sg::jinja
