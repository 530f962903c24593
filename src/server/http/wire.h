// HTTP/1.1 bytes on the wire, written by hand so every byte is ours to check: status lines,
// lowercase headers, Content-Length, chunked framing for SSE. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

#include "server/http/http_server.h"

namespace sg::http {

std::string_view ReasonPhrase(int status);

// How a response is framed for the request it answers.
struct Framing {
  int http_minor = 1;      // 0 for an HTTP/1.0 request
  bool keep_alive = true;  // false: `connection: close` (1.1); 1.0 + keep-alive: `connection:
                           // keep-alive`
  bool head = false;       // a HEAD request: headers (with the real content-length), no body
};

// A complete response: status line, content-type (if set), content-length (always), connection
// (see Framing), the response's headers, then `extra` (CORS), blank line, body.
std::string SerializeResponse(const Response& response, const Framing& framing,
                              const Headers& extra);

// The head of an SSE response (no body yet). HTTP/1.1: chunked; HTTP/1.0: no framing and
// `connection: close` (the body ends when the connection closes).
std::string SerializeSseHead(const Headers& headers, int http_minor);

// One chunk of a chunked body ("<hex size>\r\n<data>\r\n"); `data` must be non-empty. The final
// chunk is kLastChunk.
std::string Chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// A response with a status and nothing else (content-length 0): hyper's answer to a malformed
// request, 408, 431, 501, 505.
inline Response EmptyResponse(int status) { return Response{status, "", {}, ""}; }

// ASCII lowercase.
std::string Lowercase(std::string_view s);

}  // namespace sg::http
