// GCC's -Wmaybe-uninitialized misfires inside Beast's parser (a boost::optional content length)
// when ASan changes inlining; the warning is about Boost's code, which is fine.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "server/http/connection.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <exception>
#include <vector>

#include "server/http/cors.h"
#include "server/http/request_parse.h"
#include "server/http/sse_stream.h"

namespace sg::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

// The ResponseWriter handed to a handler: every call posts to the connection's strand.
class WriterImpl : public ResponseWriter {
 public:
  WriterImpl(std::shared_ptr<Connection> connection, uint64_t seq, bool chunked)
      : connection_(std::move(connection)), seq_(seq), chunked_(chunked) {}
  // Dropped without an answer (a handler bug, or work discarded at shutdown): answer 500 rather
  // than leave the client waiting forever.
  ~WriterImpl() override {
    if (!used_.load(std::memory_order_acquire)) {
      connection_->Post([c = connection_, s = seq_] { c->Respond(s, {500, "", {}, ""}); });
    }
  }
  void Respond(Response response) override {
    used_.store(true, std::memory_order_release);
    connection_->Post([c = connection_, s = seq_, r = std::move(response)]() mutable {
      c->Respond(s, std::move(r));
    });
  }
  std::shared_ptr<SseStream> StartSse(Headers extra_headers) override {
    used_.store(true, std::memory_order_release);
    auto stream = std::make_shared<SseStreamImpl>(connection_, seq_, chunked_);
    connection_->Post([c = connection_, s = seq_, stream, h = std::move(extra_headers)]() mutable {
      c->StartSse(s, std::move(stream), std::move(h));
    });
    return stream;
  }
  void OnDisconnect(std::function<void()> callback) override {
    connection_->Post([c = connection_, s = seq_, cb = std::move(callback)]() mutable {
      c->SetDisconnectCallback(s, std::move(cb));
    });
  }

 private:
  const std::shared_ptr<Connection> connection_;
  const uint64_t seq_;
  const bool chunked_;
  std::atomic<bool> used_{false};  // Respond or StartSse was called
};

// Ends a read of the next request or of the linger drain; a pending request's read is smaller so
// a pipelining client cannot make us buffer much.
constexpr size_t kDetectReadBytes = 4096;
constexpr size_t kDrainReadBytes = 64 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, std::shared_ptr<ServerCore> core)
    : core_(std::move(core)), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  core_->open_connections.fetch_add(1, std::memory_order_relaxed);
}

Connection::~Connection() {
  if (counted_) core_->open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::Start() {
  beast::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // each SSE event leaves at once
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void Connection::CloseFromServer() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->PeerGone(); });
}

void Connection::DoRead() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kReading;
  parser_.emplace();
  ApplyLimits(*parser_, core_->options);
  // The header first: 413 for an oversized Content-Length goes out before any body byte is read,
  // and `Expect: 100-continue` is answered before the body is awaited.
  bhttp::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    OnReadError(ec);
    return;
  }
  if (parser_->is_done()) {  // no body
    Dispatch();
    return;
  }
  if (ExpectsContinue(parser_->get())) {
    Enqueue("HTTP/1.1 100 Continue\r\n\r\n", After::kNothing);
  }
  bhttp::async_read(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    OnReadError(ec);
    return;
  }
  Dispatch();
}

void Connection::OnReadError(beast::error_code ec) {
  const std::optional<Response> answer = ParseErrorResponse(ec);
  if (!answer) {
    Close();  // EOF or a socket error: nothing to answer
    return;
  }
  // The request may be unreadable, so nothing of it is trusted: HTTP/1.1 framing, close after.
  phase_ = Phase::kHandling;
  responded_ = answered_ = true;
  framing_ = Framing{1, false, false};
  cors_ = CorsHeaders(Request{}, core_->options);
  Enqueue(SerializeResponse(*answer, framing_, cors_), After::kLingerClose);
}

void Connection::Dispatch() {
  BeastRequest& message = parser_->get();
  framing_ = Framing{message.version() == 10 ? 0 : 1, message.keep_alive(),
                     message.method() == bhttp::verb::head};
  Request request = ToRequest(std::move(message));
  parser_.reset();
  cors_ = CorsHeaders(request, core_->options);
  ++seq_;
  responded_ = answered_ = false;
  on_disconnect_ = nullptr;
  phase_ = Phase::kHandling;
  const Decision d = core_->routes.Decide(request, core_->options);
  if (d.response) {
    Answer(*d.response);
    return;
  }
  StartDetectRead();
  RunHandler(*d.route, std::move(request));
}

void Connection::RunHandler(const RouteEntry& route, Request request) {
  auto writer = std::make_shared<WriterImpl>(shared_from_this(), seq_, framing_.http_minor != 0);
  try {
    route.handler(std::move(request), writer);
  } catch (const std::exception& e) {  // a handler bug must not take the I/O thread down
    spdlog::error("http handler for {} threw: {}", route.method, e.what());
    writer->Respond({500, "", {}, ""});
  }
}

void Connection::Answer(const Response& response) {
  responded_ = answered_ = true;
  on_disconnect_ = nullptr;
  Enqueue(SerializeResponse(response, framing_, cors_), After::kResponseDone);
}

void Connection::Respond(uint64_t seq, Response response) {
  if (seq != seq_ || responded_ || phase_ == Phase::kClosed) return;
  Answer(response);
}

void Connection::SetDisconnectCallback(uint64_t seq, std::function<void()> callback) {
  if (seq != seq_ || answered_) return;
  if (phase_ == Phase::kClosed) {  // the client left before the handler registered
    if (callback) callback();
    return;
  }
  on_disconnect_ = std::move(callback);
}

// A read kept outstanding while a handler works or a stream is open: EOF or an error means the
// client left. Bytes that arrive are the next (pipelined) request and stay in buffer_.
void Connection::StartDetectRead() {
  detect_pending_ = true;
  socket_.async_read_some(
      buffer_.prepare(kDetectReadBytes),
      [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnDetect(ec, n); });
}

void Connection::OnDetect(beast::error_code ec, size_t n) {
  detect_pending_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec == asio::error::operation_aborted && read_next_) {
    // Cancelled by ResponseDone: go on with the next request.
  } else if (ec) {
    PeerGone();
    return;
  } else {
    buffer_.commit(n);
    // Pipelined bytes are bounded by what one request may be.
    if (buffer_.size() > core_->options.payload_limit + core_->options.max_header_bytes) {
      PeerGone();
      return;
    }
  }
  if (read_next_) {
    read_next_ = false;
    DoRead();
  } else {
    StartDetectRead();
  }
}

void Connection::Enqueue(std::string bytes, After after, size_t sse_bytes) {
  out_.push_back({std::move(bytes), after, sse_bytes});
  if (in_flight_ == 0) DoWrite();
}

// Writes everything queued up to (and including) the first entry with an `After` action, in one
// gathered write.
void Connection::DoWrite() {
  if (out_.empty() || phase_ == Phase::kClosed) return;
  std::vector<asio::const_buffer> buffers;
  for (const Out& o : out_) {
    buffers.push_back(asio::buffer(o.bytes));
    if (o.after != After::kNothing || buffers.size() == 64) break;
  }
  in_flight_ = buffers.size();
  asio::async_write(socket_, buffers, [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnWritten(ec);
  });
}

void Connection::OnWritten(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    PeerGone();
    return;
  }
  After after = After::kNothing;
  for (size_t i = 0; i < in_flight_; ++i) {
    if (out_.front().sse_bytes && stream_) stream_->Written(out_.front().sse_bytes);
    after = out_.front().after;
    out_.pop_front();
  }
  in_flight_ = 0;
  switch (after) {
    case After::kNothing:
      break;
    case After::kResponseDone:
      ResponseDone();
      break;
    case After::kClose:
      Close();
      return;
    case After::kLingerClose:
      LingerClose();
      return;
  }
  DoWrite();
}

// The response is on the wire: parse the next request (keep-alive) or close.
void Connection::ResponseDone() {
  if (stream_) {
    stream_->MarkClosed();
    stream_.reset();
  }
  if (!framing_.keep_alive) {
    Close();
    return;
  }
  if (detect_pending_) {
    read_next_ = true;
    beast::error_code ec;
    socket_.cancel(ec);  // OnDetect sees operation_aborted (or data) and starts DoRead
  } else {
    DoRead();
  }
}

// The client went away (or the server is stopping): tell the handler once.
void Connection::PeerGone() {
  if (phase_ == Phase::kClosed) return;
  std::function<void()> callback = std::move(on_disconnect_);
  on_disconnect_ = nullptr;
  const bool owed = !answered_;
  Close();
  if (callback && owed) callback();
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  if (stream_) {
    stream_->MarkClosed();
    stream_.reset();
  }
  timer_.cancel();
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  if (counted_) {
    counted_ = false;
    core_->open_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  // out_ is kept: an aborted async_write may still reference its buffers until its handler runs.
}

// After an error answer (413, 400) the client may still be sending its body; closing at once
// would make the kernel reset the connection, which can destroy our answer before the client
// reads it. So: stop sending, discard what arrives for up to kLingerTime, then close.
void Connection::LingerClose() {
  if (phase_ == Phase::kClosed) return;
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  timer_.expires_after(kLingerTime);
  timer_.async_wait([self = shared_from_this()](beast::error_code e) {
    if (!e) self->Close();
  });
  if (!detect_pending_) Drain();
}

void Connection::Drain() {
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(kDrainReadBytes),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (self->phase_ == Phase::kClosed) return;
                            if (ec) {
                              self->Close();
                            } else {
                              self->Drain();
                            }
                          });
}

}  // namespace sg::http
