// Fuzzes what the HTTP layer does with untrusted bytes before any handler runs: Beast's request
// parser with the server's body and header limits, then the routing checks (CORS preflight,
// 404/405, 401, 415) and the response serializer, all through sg::http::DecideFromBytes, the
// same pieces the connection runs over a socket. Must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/http/request_parse.h"
#include "server/http/routing.h"

namespace {

const sg::http::RouteTable& Routes() {
  static const sg::http::RouteTable* table = [] {
    auto* t = new sg::http::RouteTable();
    auto noop = [](sg::http::Request&&, std::shared_ptr<sg::http::ResponseWriter>) {};
    t->Add("POST", "/generate", {.json_body = true, .protected_ = true}, noop);
    t->Add("POST", "/generate_stream", {.json_body = true, .protected_ = true}, noop);
    t->Add("POST", "/", {.json_body = true, .protected_ = true}, noop);
    t->Add("POST", "/chat_tokenize", {.json_body = true}, noop);
    t->Add("GET", "/", {}, noop);
    t->Add("GET", "/health", {}, noop);
    return t;
  }();
  return *table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks the configuration, so auth and both CORS modes are all explored.
  const uint8_t mode = size > 0 ? data[0] : 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + (size > 0),
                               size > 0 ? size - 1 : 0);
  sg::http::ServerOptions options;
  options.payload_limit = 4096;
  options.max_header_bytes = 8192;
  if (mode & 1) options.api_key = "Key";
  if (mode & 2) options.cors_allow_origins = {"http://a.example"};
  const int status = sg::http::DecideFromBytes(bytes, Routes(), options);
  switch (status) {
    case -1:
    case 0:
    case 200:
    case 400:
    case 401:
    case 404:
    case 405:
    case 413:
    case 415:
    case 431:
      return 0;
    default:
      __builtin_trap();  // a status the server must never produce here
  }
}
