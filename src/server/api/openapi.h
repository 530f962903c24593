// Our own OpenAPI 3.0 document of what streamgen serves (src/server/api/openapi.json, hand-written,
// embedded at configure time with info.version = STREAMGEN_VERSION): every route, TGI's request
// and response schemas with the defaults TGI really applies, and our refusals (watermark,
// grammar). Served at GET /api-doc/openapi.json. Any thread.
#pragma once

#include <string_view>

namespace sg::api {

std::string_view OpenApiDocument();

}  // namespace sg::api
