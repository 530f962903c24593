// Fuzzes whole HTTP/1.1 connections: what the server decides from a client's byte stream before
// any handler runs, through sg::http::DecideConnection (the RequestReader and routing checks
// the connection runs over a socket): several pipelined requests, chunked bodies with
// extensions and trailers, every limit, the response serializer. Must never crash, hang or
// leak, and must hold these invariants:
//   * every answer is one the server may give before a handler (no other status);
//   * an error answer is the last one: nothing after it is read (no smuggled request);
//   * the same bytes delivered in pieces (as separate socket reads, cut every K bytes) get the
//     same answers as delivered at once: incremental parsing may not change the framing. One
//     difference is allowed: a malformed head seen whole is refused at once, while Beast, given
//     it in pieces, may wait for the end of the head first (bounded by the head size limit and
//     the header timeout); then the piecewise run ends waiting, one error answer short.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

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

bool Allowed(int status) {
  switch (status) {
    case 0:
    case 200:
    case 400:
    case 401:
    case 404:
    case 405:
    case 413:
    case 415:
    case 431:
    case 501:
    case 505:
      return true;
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0 picks the configuration (auth, both CORS modes); byte 1 the piece size of the
  // second delivery.
  const uint8_t mode = data[0];
  const size_t step = 1 + data[1] % 23;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  sg::http::ServerOptions options;
  options.payload_limit = 4096;
  options.max_header_bytes = 8192;
  if (mode & 1) options.api_key = "Key";
  if (mode & 2) options.cors_allow_origins = {"http://a.example"};

  const sg::http::ConnectionOutcome whole =
      sg::http::DecideConnection(bytes, {}, Routes(), options);
  for (size_t i = 0; i < whole.statuses.size(); ++i) {
    const int status = whole.statuses[i];
    if (!Allowed(status)) __builtin_trap();  // a status the server must never produce here
    if (status >= 400 && status != 401 && status != 404 && status != 405 && status != 415 &&
        (i + 1 != whole.statuses.size() || !whole.closed)) {
      __builtin_trap();  // a framing error that did not end the connection
    }
  }
  std::vector<size_t> cuts;
  for (size_t c = step; c < bytes.size(); c += step) cuts.push_back(c);
  const sg::http::ConnectionOutcome pieces =
      sg::http::DecideConnection(bytes, cuts, Routes(), options);
  if (pieces.statuses == whole.statuses && pieces.closed == whole.closed) return 0;
  const sg::http::ConnectionOutcome& shorter =
      pieces.statuses.size() < whole.statuses.size() ? pieces : whole;
  const sg::http::ConnectionOutcome& longer = &shorter == &pieces ? whole : pieces;
  const bool one_error_short =
      shorter.incomplete && !shorter.closed && longer.closed &&
      longer.statuses.size() == shorter.statuses.size() + 1 && longer.statuses.back() >= 400 &&
      std::equal(shorter.statuses.begin(), shorter.statuses.end(), longer.statuses.begin());
  if (!one_error_short) __builtin_trap();
  return 0;
}
