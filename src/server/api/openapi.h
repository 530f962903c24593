// Our own OpenAPI 3 document of what streamgen serves (src/server/api/openapi.json, embedded at
// build time). Any thread.
#pragma once

#include <string_view>

namespace sg::api {

std::string_view OpenApiDocument();

}  // namespace sg::api
