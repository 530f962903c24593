#include "server/http/cors.h"

namespace sg::http {

Headers CorsHeaders(const Request& request, const ServerOptions& options) {
  if (options.cors_allow_origins.empty()) return {{"access-control-allow-origin", "*"}};
  const std::string_view origin = request.Header("origin");
  if (!origin.empty()) {
    for (const std::string& allowed : options.cors_allow_origins) {
      if (origin == allowed) {
        return {{"access-control-allow-origin", std::string(origin)}, {"vary", "origin"}};
      }
    }
  }
  return {{"vary", "origin"}};
}

bool IsPreflight(const Request& request) {
  return request.method == "OPTIONS" && !request.Header("access-control-request-method").empty();
}

Response PreflightResponse() {
  Response r;
  r.status = 200;
  r.headers = {{"access-control-allow-methods", "GET,POST"},
               {"access-control-allow-headers", "content-type"}};
  return r;
}

}  // namespace sg::http
