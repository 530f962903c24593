// From Beast's parsed message to our Request, the answers to requests that do not parse, and the
// whole "bytes in, status out" decision as one pure function (the fuzz target drives it; the
// connection runs the same pieces over a socket).
// Pure; any thread.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/error_code.hpp>
#include <optional>
#include <string_view>

#include "server/http/http_server.h"
#include "server/http/routing.h"

namespace sg::http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;

// Splits the target into path and query, lowercases header names, moves the body.
Request ToRequest(BeastRequest&& message);

// True for `Expect: 100-continue` on an HTTP/1.1 request (curl sends it for bodies over 1 KiB and
// waits up to 1 s for the interim answer).
bool ExpectsContinue(const BeastRequest& message);

// The answer to a request Beast could not read: 413 (body over payload_limit, known from
// Content-Length before the body is read, or a chunked body that grew past it), 431 (headers
// over max_header_bytes), 400 (malformed). nullopt when the peer simply went away (EOF, reset,
// a message cut short): the connection closes without an answer. The connection closes after
// any of these answers.
std::optional<Response> ParseErrorResponse(const boost::system::error_code& ec);

// Everything decided from request bytes before a handler runs, without sockets: parses `bytes`
// as one request with options' limits, then runs the routing checks and serializes the answer.
// Returns the status the server would send (400, 413, 431, 404, 405, 401, 415, or 200 for a CORS
// preflight), 0 if a handler would run, -1 if the bytes end before the request does.
int DecideFromBytes(std::string_view bytes, const RouteTable& routes, const ServerOptions& options);

// Applies the server's limits to a fresh parser.
template <typename Parser>
void ApplyLimits(Parser& parser, const ServerOptions& options) {
  parser.body_limit(options.payload_limit);
  parser.header_limit(static_cast<uint32_t>(std::min<size_t>(options.max_header_bytes, 1u << 30)));
}

}  // namespace sg::http
