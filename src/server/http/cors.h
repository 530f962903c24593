// CORS as TGI configures tower-http's CorsLayer (API contract §1.1): allowed methods GET and POST,
// allowed request headers only `content-type`, allowed origins the `--cors-allow-origin` list or
// `*` when it is empty. Pure; any thread.
#pragma once

#include "server/http/http_server.h"

namespace sg::http {

// Headers added to every response: `access-control-allow-origin` (`*`, or the request's Origin
// when it is in the list) and, with a list, `vary: origin`. With a list and a foreign or missing
// Origin only `vary` is sent, and the browser blocks the response.
Headers CorsHeaders(const Request& request, const ServerOptions& options);

// A preflight is an OPTIONS request carrying `access-control-request-method`; it is answered
// (200, empty) for any path, before routing, like tower-http does.
bool IsPreflight(const Request& request);
Response PreflightResponse();

}  // namespace sg::http
