// The whole "bytes in, answers out" decision of a connection as one pure function, without
// sockets: the fuzz target and the tests drive it; the connection runs the same RequestReader
// and routing checks over a socket.
// Pure; any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "server/http/http_server.h"
#include "server/http/routing.h"

namespace sg::http {

// One answer per request read from the connection, in order.
//   the status the server would send itself (400, 401, 404, 405, 408 never here, 413, 415, 431,
//   501, 505, or 200 for a CORS preflight), or 0 when a handler would run.
struct ConnectionOutcome {
  std::vector<int> statuses;
  bool closed = false;      // the connection ends after the last answer (error or no keep-alive)
  bool incomplete = false;  // the bytes end inside a request (the server would wait for more)
  size_t continues = 0;     // `100 Continue` interim answers sent
};

// Reads `bytes` as a client's stream of pipelined requests, delivered in pieces cut at
// `cuts` (increasing offsets: each piece is one socket read), exactly as a connection does:
// every complete request is decided by the routes; a handler's request is assumed answered,
// then the next is read if the request kept the connection alive; an error answer ends it.
ConnectionOutcome DecideConnection(std::string_view bytes, std::span<const size_t> cuts,
                                   const RouteTable& routes, const ServerOptions& options);

}  // namespace sg::http
