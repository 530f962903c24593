#include "server/http/routing.h"

#include "server/http/auth.h"
#include "server/http/cors.h"
#include "server/http/wire.h"

namespace sg::http {

namespace {
constexpr char kTextPlain[] = "text/plain; charset=utf-8";  // axum's content type for a &str body
}  // namespace

Response PayloadTooLargeResponse() {
  return {413, kTextPlain, {}, "Failed to buffer the request body: length limit exceeded"};
}

Response UnsupportedMediaTypeResponse() {
  return {415, kTextPlain, {}, "Expected request with `Content-Type: application/json`"};
}

void RouteTable::Add(std::string method, std::string path, RouteOptions options, Handler handler) {
  std::vector<RouteEntry>& entries = routes_[std::move(path)];
  for (RouteEntry& e : entries) {
    if (e.method == method) {
      e = {std::move(method), options, std::move(handler)};
      return;
    }
  }
  entries.push_back({std::move(method), options, std::move(handler)});
}

bool IsJsonContentType(std::string_view content_type) {
  std::string mime = Lowercase(content_type.substr(0, content_type.find(';')));
  while (!mime.empty() && (mime.back() == ' ' || mime.back() == '\t')) mime.pop_back();
  if (mime == "application/json") return true;
  constexpr std::string_view kApp = "application/", kSuffix = "+json";
  return mime.size() > kApp.size() + kSuffix.size() && mime.starts_with(kApp) &&
         mime.ends_with(kSuffix);
}

Decision RouteTable::Decide(const Request& request, const ServerOptions& options) const {
  Decision d;
  if (IsPreflight(request)) {
    d.response = PreflightResponse();
    return d;
  }
  auto it = routes_.find(request.path);
  if (it == routes_.end()) {
    d.response = Response{404, "", {}, ""};
    return d;
  }
  const RouteEntry* route = nullptr;
  const RouteEntry* get = nullptr;
  std::string allow;
  for (const RouteEntry& e : it->second) {
    if (e.method == request.method) route = &e;
    if (e.method == "GET") get = &e;
    allow += allow.empty() ? e.method : "," + e.method;
    if (e.method == "GET") allow += ",HEAD";  // axum lists the implied HEAD: "GET,HEAD"
  }
  if (!route && request.method == "HEAD") route = get;  // axum answers HEAD with the GET route
  if (!route) {
    d.response = Response{405, "", {{"allow", allow}}, ""};
    return d;
  }
  // Auth is a middleware in TGI, so it runs before the JSON extractor's content-type check.
  if (route->options.protected_ && !options.api_key.empty() &&
      !ApiKeyMatches(request.Header("authorization"), options.api_key)) {
    d.response = Response{401, "", {}, ""};
    return d;
  }
  if (route->options.json_body && !IsJsonContentType(request.Header("content-type"))) {
    d.response = UnsupportedMediaTypeResponse();
    return d;
  }
  d.route = route;
  return d;
}

}  // namespace sg::http
