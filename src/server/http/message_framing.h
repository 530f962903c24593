// RFC 9112 checks on a request's head that Beast's parser does not make, or makes too leniently,
// each one a request-smuggling or desynchronisation shape when a proxy reads the same bytes
// differently than we do:
//   * the raw head: every line ends in CRLF (no bare CR or LF), no NUL or other control byte but
//     HTAB, no obsolete line folding (a field line starting with SP or HTAB; Beast would unfold
//     it), field names without whitespace before the colon;
//   * message framing (§6.1-6.3): Transfer-Encoding must end in exactly one `chunked`, never sits
//     beside Content-Length, never on HTTP/1.0; Content-Length is one field of 1*DIGIT; one Host.
// Pure functions; any thread.
#pragma once

#include <optional>
#include <string_view>

#include "server/http/http_server.h"

namespace sg::http {

// True if `block` is field lines then the blank line (a trailer section, or a head after its
// request line), each ending in CRLF, with no control bytes but HTAB, no folding, and no
// whitespace or emptiness before a field's colon.
bool FieldLinesAreValid(std::string_view block);

// True if `head` (the request line, the field lines and the blank line, as received) has only
// CRLF line ends, no control bytes but HTAB in the lines, and no line folding.
bool HeadBytesAreValid(std::string_view head);

// The answer to a head whose framing cannot be trusted, or nullopt when the body length is
// well defined. `headers` are the received fields in order (lowercase names); `version` is 10 or
// 11. 400 for a broken framing, 501 for a transfer coding other than chunked.
std::optional<Response> CheckFraming(const Headers& headers, int version);

}  // namespace sg::http
