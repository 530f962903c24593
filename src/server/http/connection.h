// One HTTP/1.1 connection: reads requests through a RequestReader (every limit and framing rule
// of request_reader.h), runs the routing checks, hands requests to handlers, writes their
// responses or SSE streams from a queue, and notices at once when the client goes away.
//
// Phases: kReading (the next request's bytes) -> kHandling (a handler owns the request, or its
// response is being written) -> kStreaming (an SSE body is open) -> kReading again after the
// response (keep-alive), or kClosed. A request that cannot be read is answered, then kLingering
// (our side shut, the client's late bytes discarded for up to 2 s) -> kClosed.
//
// Reading: one wait for readability is outstanding whenever the connection is open (reactor
// style, so an idle connection holds no read buffer). What a wake-up means depends on the phase:
// request bytes (kReading), the client leaving or pipelining the next request (kHandling,
// kStreaming: bytes stay in buffer_ until the response is written), or bytes to discard
// (kLingering).
//
// Deadlines (ServerOptions, one watchdog timer): idle_timeout for the first byte of a request
// (closed silently), header_timeout from that byte to the end of the head and body_timeout
// between body bytes (408, then close), send_timeout for each write (the client is treated as
// gone). A connection waiting on its handler or on generation has no read deadline.
//
// Thread rules: every member is touched only on the connection's strand (the socket's executor).
// The ResponseWriter / SseStream objects handed to handlers post to that strand, so they may be
// used from any thread; they hold a shared_ptr, so the connection lives as long as they do.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/http/http_server.h"
#include "server/http/request_reader.h"
#include "server/http/server_core.h"
#include "server/http/wire.h"

namespace sg::http {

class SseStreamImpl;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, std::shared_ptr<ServerCore> core);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start();            // any thread, once
  void CloseFromServer();  // any thread: a disconnect as seen by the handler
  // Any thread: the server is shutting down. An idle connection closes now; one with a request
  // in progress finishes that request (its response says `connection: close`), then closes.
  void BeginDrain();

  // Queues `fn` on this connection's strand (any thread); dropped once the server stopped.
  template <typename Fn>
  void Post(Fn fn) {
    core_->Post(socket_.get_executor(), std::move(fn));
  }
  const ServerOptions& options() const { return core_->options; }

  // On the strand, posted by the writer / stream objects of request `seq`. A stale `seq` (an
  // earlier request of this connection) is ignored.
  void Respond(uint64_t seq, Response response);
  void SetDisconnectCallback(uint64_t seq, std::function<void()> callback);
  void StartSse(uint64_t seq, std::shared_ptr<SseStreamImpl> stream, Headers headers);  // sse
  void SendEvent(uint64_t seq, std::string bytes);                                      // sse
  void EndSse(uint64_t seq);                                                            // sse
  void DropSlowReader(uint64_t seq);                                                    // sse
  void AbortSse(uint64_t seq);                                                          // sse

 private:
  enum class Phase { kReading, kHandling, kStreaming, kLingering, kClosed };
  // What to do once a queued write is on the wire.
  enum class After { kNothing, kResponseDone, kClose, kLingerClose };
  struct Out {
    std::string bytes;
    After after = After::kNothing;
    size_t sse_bytes = 0;  // part of the stream's pending_bytes until written
  };
  using Clock = std::chrono::steady_clock;

  // Reading.
  void DoRead();  // start reading the next request
  void WaitReadable();
  void OnReadable(boost::beast::error_code ec);
  void OnPeerEnd();  // EOF or a socket error on the read side
  void ParseBuffered();
  void AnswerAndLinger(Response response);
  void Dispatch();
  void RunHandler(const RouteEntry& route, Request request);
  void Answer(const Response& response);
  // Writing.
  void Enqueue(std::string bytes, After after, size_t sse_bytes = 0);
  void DoWrite();
  void OnWritten(boost::beast::error_code ec);
  void ResponseDone();
  void ArmKeepAlive();  // sse
  // Deadlines.
  Clock::time_point DeadlineIn(std::chrono::milliseconds timeout) const;  // max() for <= 0
  void ArmWatchdog();
  void OnWatchdog(uint64_t generation);
  // Ending.
  void PeerGone();
  void Close();
  void LingerClose();

  std::shared_ptr<ServerCore> core_;  // declared first: outlives the socket and the timers
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;     // SSE keep-alive, or the linger deadline after an error
  boost::asio::steady_timer watchdog_;  // the read and write deadlines
  boost::beast::flat_buffer buffer_;    // received, not yet consumed by a RequestReader
  std::optional<RequestReader> reader_;
  Phase phase_ = Phase::kReading;
  bool counted_ = true;    // still counted in open_connections
  bool draining_ = false;  // the server is shutting down: no further request is read
  bool read_pending_ = false;
  bool peer_eof_ = false;         // the client's side ended while an answer was still queued
  bool request_started_ = false;  // a byte of the request being read has arrived

  // The current request.
  uint64_t seq_ = 0;
  Framing framing_;
  Headers cors_;            // CORS headers for its response
  bool responded_ = false;  // Respond or StartSse took effect
  bool answered_ = false;   // nothing more is owed to the handler: no disconnect callback
  std::function<void()> on_disconnect_;
  std::shared_ptr<SseStreamImpl> stream_;
  Clock::time_point last_event_{};

  // Deadlines; time_point::max() when none applies.
  Clock::time_point read_deadline_ = Clock::time_point::max();   // in kReading
  Clock::time_point write_deadline_ = Clock::time_point::max();  // while a write is in flight
  Clock::time_point watchdog_at_{};
  bool watchdog_armed_ = false;
  uint64_t watchdog_generation_ = 0;  // a superseded wait sees a different number

  std::deque<Out> out_;  // the first in_flight_ entries are being written
  size_t in_flight_ = 0;
};

}  // namespace sg::http
