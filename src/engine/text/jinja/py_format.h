// Python's string formatting: `fmt % args` (printf-style) and `fmt.format(*args, **kwargs)` with
// the format-spec mini-language (fill, align, sign, width, grouping, precision, type).
#pragma once

#include <string>
#include <string_view>

#include "engine/core/status.h"
#include "engine/text/jinja/value.h"

namespace sg::jinja {

// FMT % ARGS. ARGS: a tuple (positional), a dict (for %(name)s) or a single value.
StatusOr<std::string> PercentFormat(std::string_view fmt, const Value& args);
// FMT.format(*args.pos, **args.kw).
StatusOr<std::string> StrFormat(std::string_view fmt, const CallArgs& args);
// format(value, spec).
StatusOr<std::string> FormatValue(const Value& v, std::string_view spec);

}  // namespace sg::jinja
