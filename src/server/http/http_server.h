// The HTTP/1.1 front end (Boost.Asio + Beast) behind a small interface of ours (principle 9):
// routes map (method, path) to handlers; a handler answers once with a full response, or starts a
// Server-Sent-Events stream and writes events to it from any thread. Event-driven: an open stream
// holds no thread, only a socket, a strand and a small write queue.
//
// What this layer does itself, before any handler runs (TGI/axum behaviour, API contract §1.1 and
// §4.4):
//   * keep-alive, pipelining-safe (one request at a time per connection);
//   * body larger than payload_limit -> 413 text/plain
//     "Failed to buffer the request body: length limit exceeded";
//   * routes declared json_body without an application/json (or application/*+json)
//     Content-Type -> 415 text/plain "Expected request with `Content-Type: application/json`";
//   * routes declared protected, when api_key is set: `Authorization` must equal "Bearer <key>"
//     compared case-insensitively and in constant time -> else 401, empty body;
//   * unknown path -> 404 empty; known path, wrong method -> 405 empty with an `allow` header;
//   * CORS: `access-control-allow-origin` (the request's Origin if it is in cors_allow_origins,
//     or `*` when the list is empty), allowed methods GET, POST, allowed headers content-type;
//     OPTIONS preflight answered 200;
//   * request framing and limits (request_reader.h): malformed HTTP or untrustworthy framing
//     -> 400 and close; head too large -> 431; a coding other than chunked -> 501; a version
//     other than 1.0/1.1 -> 505; a broken chunked body -> 400 (axum's text); all then close;
//   * slow clients (ServerOptions timeouts): 408 and close, or a silent close when idle.
//
// Thread rules: Route() before Start(). Handlers run on an I/O thread and must not block (post
// work elsewhere). ResponseWriter / SseStream methods may be called from ANY thread (they post to
// the connection's strand) and are safe after the client disconnected or the server stopped (they
// then do nothing); a writer or stream may outlive the Server object.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/status.h"

namespace sg::http {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names lowercase

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string query;   // after '?', may be empty
  Headers headers;     // lowercase names
  std::string body;
  std::string_view Header(std::string_view lowercase_name) const;  // "" if absent
};

struct Response {
  int status = 200;
  std::string content_type;  // omitted if empty (e.g. an empty-body 200)
  Headers headers;           // extra headers (lowercase names)
  std::string body;          // Content-Length is always set
};

// An open SSE response: 200, `content-type: text/event-stream`, `cache-control: no-cache`,
// `x-accel-buffering: no`, chunked. Each Send writes "data: <payload>\n\n" and flushes it at once.
// After keep_alive of silence it writes the comment ":\n\n" (TGI: 15 s), restarting after every
// event.
class SseStream {
 public:
  virtual ~SseStream() = default;
  // Queues one event (payload must be one line, non-empty). False if the stream is closed.
  virtual bool Send(std::string payload) = 0;
  // The same event with an `id: <id>` line before its data line, and `retry: <retry_ms>` when
  // retry_ms > 0 (WHATWG SSE: the client's Last-Event-ID and reconnection delay). Only resumable
  // streams (resumable_streams.h) use it; TGI's framing never has these lines.
  virtual bool SendWithId(std::string payload, std::string_view id, int64_t retry_ms) = 0;
  // Ends the response (final chunk). Further Sends return false. The connection then serves the
  // client's next request (HTTP/1.1 keep-alive), or closes (`Connection: close`, HTTP/1.0).
  virtual void Close() = 0;
  // Ends the response WITHOUT the final chunk and closes the connection, as if the client had
  // gone (OnDisconnect runs): the client sees a cut stream, not a finished one. Used when a newer
  // connection resumed the same stream. No-op once closed.
  virtual void Abort() = 0;
  // True once the client disconnected or Close was called.
  virtual bool closed() const = 0;
  // Bytes queued but not yet written to the socket (backpressure visibility). Past
  // ServerOptions::max_stream_pending_bytes the stream is closed as a disconnect.
  virtual size_t pending_bytes() const = 0;
};

// A writer dropped without Respond or StartSse answers 500 (a handler bug or work discarded at
// shutdown must not leave the client waiting).
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends a complete response. Only the first of Respond/StartSse has an effect.
  virtual void Respond(Response response) = 0;
  // Sends the SSE headers (plus `extra_headers`) and returns the stream.
  virtual std::shared_ptr<SseStream> StartSse(Headers extra_headers) = 0;
  // Called once (on an I/O thread) if the client disconnects before the response completed,
  // e.g. to cancel generation. Set it in the handler, before returning. Also called when the
  // server stops, or when an SSE client stops reading (ServerOptions::max_stream_pending_bytes).
  // Not called once Respond or SseStream::Close took effect.
  virtual void OnDisconnect(std::function<void()> callback) = 0;
};

using Handler = std::function<void(Request&& request, std::shared_ptr<ResponseWriter> writer)>;

struct RouteOptions {
  bool json_body = false;   // needs Content-Type application/json (415 otherwise)
  bool protected_ = false;  // needs the API key when one is set (401 otherwise)
};

struct ServerOptions {
  std::string hostname = "0.0.0.0";  // an IP literal; anything else -> 0.0.0.0 (TGI) with a warning
  uint16_t port = 3000;              // 0 = pick a free port (tests); see Server::port()
  int io_threads = 2;
  size_t payload_limit = 2000000;               // bytes
  std::string api_key;                          // empty = no auth
  std::vector<std::string> cors_allow_origins;  // empty = "*"
  std::chrono::milliseconds keep_alive{15000};  // SSE comment after this much silence
  size_t max_header_bytes = 64 * 1024;
  // Slow or silent clients (0 = no limit). idle: no byte of a next request (a new connection, or
  // between keep-alive requests) -> closed silently. header: from a request's first byte to the
  // end of its head -> 408. body: the longest pause between body bytes -> 408. send: the longest
  // a write may take -> the client is treated as gone (a stream's OnDisconnect runs). nginx's
  // defaults are 75/60/60/60 s, hyper's header read timeout 30 s.
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds header_timeout{30000};
  std::chrono::milliseconds body_timeout{60000};
  std::chrono::milliseconds send_timeout{60000};
  // Slow-reader policy: an SSE stream whose queued-but-unwritten bytes exceed this is closed as if
  // the client had disconnected (Send returns false, OnDisconnect runs), so a client that stops
  // reading cannot make the server buffer without bound.
  size_t max_stream_pending_bytes = 8u << 20;
};

class Server {
 public:
  static StatusOr<std::unique_ptr<Server>> Create(const ServerOptions& options);
  virtual ~Server() = default;
  virtual void Route(std::string method, std::string path, RouteOptions options,
                     Handler handler) = 0;
  // Binds and starts the I/O threads; returns once listening (IoError if the port is taken).
  virtual Status Start() = 0;
  virtual uint16_t port() const = 0;  // the bound port
  // Stops accepting new connections (open ones and their streams continue).
  virtual void StopAccepting() = 0;
  // The start of a graceful shutdown: stops accepting; idle connections close at once, the
  // others after the response in progress (answered with `connection: close`); no further
  // request is read. Any thread; idempotent.
  virtual void BeginShutdown() = 0;
  // Waits until every connection has written its last response and closed, or `deadline`
  // passed, then Stop()s. Call after the handlers have answered (the engine shut down): what
  // they queued is flushed, not cut off. Not from an I/O thread.
  virtual void Shutdown(std::chrono::steady_clock::time_point deadline) = 0;
  // Closes every connection (pending requests and open streams see a disconnect: OnDisconnect
  // runs, Send returns false) and joins the I/O threads. Idempotent; the destructor calls it.
  virtual void Stop() = 0;
  virtual int64_t open_connections() const = 0;
};

}  // namespace sg::http
