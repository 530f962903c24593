// One HTTP/1.1 connection: reads requests with Beast (limits from ServerOptions), runs the
// routing checks, hands requests to handlers, writes their responses or SSE streams from a queue,
// and notices at once when the client goes away.
//
// Phases: kReading (parsing the next request) -> kHandling (a handler owns the request, or its
// response is being written; a read stays outstanding so EOF or a reset is seen at once) ->
// kStreaming (an SSE body is open; same read) -> kReading again after the response (keep-alive)
// or kClosed. Bytes that arrive while a request is pending (pipelining) are kept in the read
// buffer and parsed as the next request once the current response is written.
//
// Thread rules: every member is touched only on the connection's strand (the socket's executor).
// The ResponseWriter / SseStream objects handed to handlers post to that strand, so they may be
// used from any thread; they hold a shared_ptr, so the connection lives as long as they do.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/http/http_server.h"
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

 private:
  enum class Phase { kReading, kHandling, kStreaming, kClosed };
  // What to do once a queued write is on the wire.
  enum class After { kNothing, kResponseDone, kClose, kLingerClose };
  struct Out {
    std::string bytes;
    After after = After::kNothing;
    size_t sse_bytes = 0;  // part of the stream's pending_bytes until written
  };

  void DoRead();
  void OnHeader(boost::beast::error_code ec);
  void OnBody(boost::beast::error_code ec);
  void OnReadError(boost::beast::error_code ec);
  void Dispatch();
  void RunHandler(const RouteEntry& route, Request request);
  void Answer(const Response& response);
  void StartDetectRead();
  void OnDetect(boost::beast::error_code ec, size_t n);
  void Enqueue(std::string bytes, After after, size_t sse_bytes = 0);
  void DoWrite();
  void OnWritten(boost::beast::error_code ec);
  void ResponseDone();
  void ArmKeepAlive();  // sse
  void PeerGone();
  void Close();
  void LingerClose();
  void Drain();

  std::shared_ptr<ServerCore> core_;  // declared first: outlives the socket and the timer
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;  // SSE keep-alive, or the linger deadline after an error
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Phase phase_ = Phase::kReading;
  bool counted_ = true;  // still counted in open_connections

  // The current request.
  uint64_t seq_ = 0;
  Framing framing_;
  Headers cors_;            // CORS headers for its response
  bool responded_ = false;  // Respond or StartSse took effect
  bool answered_ = false;   // nothing more is owed to the handler: no disconnect callback
  std::function<void()> on_disconnect_;
  std::shared_ptr<SseStreamImpl> stream_;
  std::chrono::steady_clock::time_point last_event_{};

  // The read kept outstanding while a request is pending.
  bool detect_pending_ = false;
  bool read_next_ = false;  // the response is done: parse the next request when it returns

  std::deque<Out> out_;  // the first in_flight_ entries are being written
  size_t in_flight_ = 0;
};

}  // namespace sg::http
