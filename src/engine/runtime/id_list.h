// Parsing of token id lists typed by people or scripts: "1,2,3" and "1,2,3;4,5".
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/core/status.h"

namespace sg {

// "1, 2,3" -> {1, 2, 3}. Spaces around ids are allowed. InvalidArgument for an empty list, an
// empty item, a non-digit, a negative id or one above INT32_MAX.
StatusOr<std::vector<int32_t>> ParseIdList(std::string_view text);

// "1,2;3" -> {{1, 2}, {3}}: ';' separates lists, each parsed by ParseIdList.
StatusOr<std::vector<std::vector<int32_t>>> ParseIdLists(std::string_view text);

}  // namespace sg
