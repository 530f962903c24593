// What happens to a parsed request before any handler runs: CORS preflight, route lookup (404/
// 405), API key (401), JSON content type (415): TGI's (axum's) behaviour, API contract §1.1, §4.4.
// Pure: no sockets, so the fuzz target and the tests drive it directly.
// Thread rules: a RouteTable is filled before the server starts and only read afterwards.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/http_server.h"

namespace sg::http {

struct RouteEntry {
  std::string method;
  RouteOptions options;
  Handler handler;
};

// Either a handler to run or a response to send at once.
struct Decision {
  const RouteEntry* route = nullptr;
  std::optional<Response> response;
};

class RouteTable {
 public:
  // A later route for the same (method, path) replaces the earlier one.
  void Add(std::string method, std::string path, RouteOptions options, Handler handler);
  Decision Decide(const Request& request, const ServerOptions& options) const;

 private:
  std::map<std::string, std::vector<RouteEntry>, std::less<>> routes_;  // path -> by method
};

// application/json, or application/<anything>+json; parameters (`; charset=utf-8`) allowed;
// case-insensitive (axum's `json_content_type`).
bool IsJsonContentType(std::string_view content_type);

// The framework's plain-text answers (API contract §4.4), byte for byte.
Response PayloadTooLargeResponse();       // 413
Response UnsupportedMediaTypeResponse();  // 415

}  // namespace sg::http
