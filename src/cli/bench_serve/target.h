// The server under test: its URL, resolved once, a reachability check that turns "connection
// refused" into one clear message before any load starts, and a blocking one-shot POST (used to
// calibrate prompts through /tokenize before the clock runs).
// Thread rules: ParseUrl is pure; the others block the calling thread (each runs its own
// io_context) and must not be called from inside a running benchmark's io_context.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace sg::benchserve {

struct Url {
  std::string host;       // "127.0.0.1", "localhost", "::1" (no brackets)
  std::string port;       // "3000"; "80" when the URL has none
  std::string base_path;  // the URL's path without a trailing '/': "" or e.g. "/tgi"
};

// http://host[:port][/path]. https is refused with a message (this client speaks plain HTTP).
StatusOr<Url> ParseUrl(std::string_view url);

struct Target {
  Url url;
  boost::asio::ip::tcp::resolver::results_type endpoints;
  std::string HostHeader() const;  // host:port, IPv6 bracketed
};

// Resolves the host; NotFound with the resolver's words when it cannot.
StatusOr<Target> ResolveTarget(const Url& url);
// Opens and closes one TCP connection; an error names the address and the reason (e.g.
// "cannot connect to 127.0.0.1:3000: Connection refused (is the server running?)").
Status CheckReachable(const Target& target, std::chrono::milliseconds timeout);

struct HttpReply {
  int status = 0;
  std::string body;
};
// POST `json_body` to base_path + path with Connection: close; waits for the whole reply.
StatusOr<HttpReply> PostJson(const Target& target, std::string_view path,
                             const std::string& json_body, std::chrono::milliseconds timeout);

}  // namespace sg::benchserve
