// Reads one HTTP/1.1 request from the bytes a connection received, with every limit the server
// sets, and turns anything a client can send into one of: "need more bytes", "the head is
// complete", "the request is complete", or "failed" with the exact answer to send before closing.
//
// This is the one boundary between client bytes and the parser: Feed catches every exception
// (Beast's, the allocator's) and answers 400, so no byte sequence reaches std::terminate. The
// Beast parser underneath is our own subclass of basic_parser: fields go straight into our
// Request (Beast's basic_fields, which throws std::length_error on a field over 64 KiB, is never
// used), trailers are counted and dropped, and chunk extensions are counted.
//
// Limits and answers (then the connection closes):
//   head over max_header_bytes, or over kMaxHeaderFields fields         -> 431
//   malformed request line or field, bad bytes (HeadBytesAreValid),
//   untrustworthy framing (CheckFraming)                                  -> 400 (501 for codings)
//   a version other than HTTP/1.0 and HTTP/1.1                             -> 505
//   body over payload_limit (from Content-Length, or a growing chunked body) -> 413
//   a broken chunked body, trailers over kMaxTrailerBytes or
//   kMaxTrailerFields, chunk extensions over kMaxChunkExtensionBytes      -> 400 "Failed to
//                                          buffer the request body: ..." (axum over hyper)
//
// Thread rules: one reader per request, used by one thread at a time (the connection's strand).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/http/http_server.h"
#include "server/http/wire.h"

namespace sg::http {

inline constexpr size_t kMaxHeaderFields = 100;        // hyper's default
inline constexpr size_t kMaxTrailerBytes = 16 * 1024;  // hyper's and Node's trailer limit
inline constexpr size_t kMaxTrailerFields = 100;
inline constexpr size_t kMaxChunkExtensionBytes = 16 * 1024;  // hyper's and Node's limit

// The answer to a chunked body that cannot be read (axum's text over hyper's body error).
Response BodyReadErrorResponse();

class RequestReader {
 public:
  enum class Progress {
    kNeedMore,  // feed more bytes
    kHead,      // the head is complete and checked (once per request; feed on for the body)
    kDone,      // the request is complete: TakeRequest
    kFailed,    // failure() is the answer; the connection closes after it
  };

  explicit RequestReader(const ServerOptions& options);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Parses from `bytes`: everything received and not yet consumed, the same unconsumed bytes
  // again plus new ones on the next call. Sets *consumed to the bytes the caller must drop.
  // Never throws.
  Progress Feed(std::string_view bytes, size_t* consumed);

  bool head_done() const;
  // After kHead or kDone: how the response is framed, and whether the client waits for
  // `100 Continue` before it sends the body.
  Framing framing() const;
  bool expects_continue() const;
  const Response& failure() const { return *failure_; }
  Request TakeRequest();

 private:
  class Parser;
  Progress FeedUnguarded(std::string_view bytes, size_t* consumed);
  Progress Fail(Response response);

  std::unique_ptr<Parser> parser_;  // Beast underneath; defined in the .cc
  std::string head_;                // the head's bytes consumed so far, until it is checked
  std::optional<Response> failure_;
  bool done_ = false;
};

}  // namespace sg::http
