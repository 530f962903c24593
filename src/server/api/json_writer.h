// Compact JSON text as serde_json writes it: strings escaped like serde_json (`"` and `\`, the
// control characters as \b \t \n \f \r or \u00XX with lowercase hex; "/" and non-ASCII kept as
// UTF-8), f32 via number_format.h. Invalid UTF-8 (which a Rust String cannot hold) is written
// as U+FFFD, maximal subpart by subpart, so the output is always valid JSON. Pure; any thread.
#pragma once

#include <string>
#include <string_view>

#include "server/api/number_format.h"

namespace sg::api {

void AppendJsonString(std::string& out, std::string_view s);  // with the quotes
std::string JsonString(std::string_view s);

}  // namespace sg::api
