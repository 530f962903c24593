#include "server/http/connection.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <vector>

#include "server/http/cors.h"
#include "server/http/sse_stream.h"

namespace sg::http {

namespace asio = boost::asio;
namespace beast = boost::beast;

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

// Bytes read per wake-up: a request being read, bytes that arrive while a response is pending
// (a pipelining client cannot make us buffer much at a time), bytes discarded while lingering.
constexpr size_t kRequestReadBytes = 16 * 1024;
constexpr size_t kDetectReadBytes = 4096;
constexpr size_t kDrainReadBytes = 64 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, std::shared_ptr<ServerCore> core)
    : core_(std::move(core)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      watchdog_(socket_.get_executor()) {
  core_->open_connections.fetch_add(1, std::memory_order_relaxed);
}

Connection::~Connection() {
  if (counted_) core_->open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::Start() {
  beast::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);  // each SSE event leaves at once
  socket_.non_blocking(true, ec);  // reads happen in OnReadable, after a readiness wait
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void Connection::CloseFromServer() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->PeerGone(); });
}

void Connection::BeginDrain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->draining_ = true;
    if (self->phase_ == Phase::kReading && !self->request_started_) self->Close();
  });
}

Connection::Clock::time_point Connection::DeadlineIn(std::chrono::milliseconds timeout) const {
  return timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
}

void Connection::DoRead() {
  if (phase_ == Phase::kClosed) return;
  if (draining_) {  // shutting down: the response just written was the last
    Close();
    return;
  }
  phase_ = Phase::kReading;
  // A large body grew the buffer; a kept-alive connection does not keep that memory.
  if (buffer_.size() == 0 && buffer_.capacity() > 2 * kRequestReadBytes) buffer_.shrink_to_fit();
  reader_.emplace(core_->options);
  request_started_ = buffer_.size() > 0;  // a pipelined request is already here
  read_deadline_ =
      DeadlineIn(request_started_ ? core_->options.header_timeout : core_->options.idle_timeout);
  ParseBuffered();
}

void Connection::WaitReadable() {
  if (read_pending_ || phase_ == Phase::kClosed) return;
  read_pending_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](beast::error_code ec) { self->OnReadable(ec); });
}

void Connection::OnReadable(beast::error_code ec) {
  read_pending_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    OnPeerEnd();
    return;
  }
  const size_t want = phase_ == Phase::kReading     ? kRequestReadBytes
                      : phase_ == Phase::kLingering ? kDrainReadBytes
                                                    : kDetectReadBytes;
  const size_t n = socket_.read_some(buffer_.prepare(want), ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    WaitReadable();  // a spurious wake-up
    return;
  }
  if (ec) {
    OnPeerEnd();
    return;
  }
  buffer_.commit(n);
  switch (phase_) {
    case Phase::kReading:
      if (!request_started_) {
        request_started_ = true;
        read_deadline_ = DeadlineIn(core_->options.header_timeout);
      } else if (reader_->head_done()) {
        read_deadline_ = DeadlineIn(core_->options.body_timeout);  // the body moved on
      }
      ParseBuffered();
      return;
    case Phase::kHandling:
    case Phase::kStreaming:
      // Pipelined bytes wait for the response; they are bounded by what one request may be.
      if (buffer_.size() > core_->options.payload_limit + core_->options.max_header_bytes) {
        PeerGone();
        return;
      }
      WaitReadable();
      return;
    case Phase::kLingering:
      buffer_.clear();
      WaitReadable();
      return;
    case Phase::kClosed:
      return;
  }
}

// The client's side ended (EOF) or failed (reset).
void Connection::OnPeerEnd() {
  switch (phase_) {
    case Phase::kReading:  // between requests, or a request cut short: nothing is owed
      Close();
      return;
    case Phase::kHandling:
    case Phase::kStreaming:
      PeerGone();
      return;
    case Phase::kLingering:
      // Our answer may still be queued: it goes out first (LingerClose then closes at once).
      peer_eof_ = true;
      if (in_flight_ == 0 && out_.empty()) Close();
      return;
    case Phase::kClosed:
      return;
  }
}

// Feeds what is buffered to the reader until it needs more bytes, the request is complete, or
// it failed.
void Connection::ParseBuffered() {
  for (;;) {
    size_t used = 0;
    const RequestReader::Progress progress = reader_->Feed(
        std::string_view(static_cast<const char*>(buffer_.data().data()), buffer_.size()), &used);
    buffer_.consume(used);
    switch (progress) {
      case RequestReader::Progress::kHead:
        read_deadline_ = DeadlineIn(core_->options.body_timeout);
        if (reader_->expects_continue()) {
          Enqueue("HTTP/1.1 100 Continue\r\n\r\n", After::kNothing);
        }
        continue;  // parse what is buffered of the body
      case RequestReader::Progress::kDone:
        Dispatch();
        return;
      case RequestReader::Progress::kFailed:
        AnswerAndLinger(reader_->failure());
        return;
      case RequestReader::Progress::kNeedMore:
        WaitReadable();
        ArmWatchdog();
        return;
    }
  }
}

// The answer to a request that cannot be read (or timed out): nothing of it is trusted, so
// HTTP/1.1 framing, `connection: close`, and the connection lingers, then closes.
void Connection::AnswerAndLinger(Response response) {  // a copy: it may live in reader_
  phase_ = Phase::kLingering;
  reader_.reset();
  responded_ = answered_ = true;
  on_disconnect_ = nullptr;
  framing_ = Framing{1, false, false};
  cors_ = CorsHeaders(Request{}, core_->options);
  buffer_.clear();
  Enqueue(SerializeResponse(response, framing_, cors_), After::kLingerClose);
  WaitReadable();  // discard what the client still sends
}

void Connection::Dispatch() {
  framing_ = reader_->framing();
  Request request = reader_->TakeRequest();
  reader_.reset();
  read_deadline_ = Clock::time_point::max();
  cors_ = CorsHeaders(request, core_->options);
  ++seq_;
  responded_ = answered_ = false;
  on_disconnect_ = nullptr;
  phase_ = Phase::kHandling;
  WaitReadable();  // the client leaving, or its next request
  const Decision d = core_->routes.Decide(request, core_->options);
  if (d.response) {
    Answer(*d.response);
    return;
  }
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
  if (draining_) framing_.keep_alive = false;  // the last response of this connection
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
  write_deadline_ = DeadlineIn(core_->options.send_timeout);
  ArmWatchdog();
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
  write_deadline_ = Clock::time_point::max();
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
  // ResponseDone may have parsed a pipelined request whose answer is already being written.
  if (in_flight_ == 0) DoWrite();
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
  DoRead();  // the readiness wait still outstanding now reads request bytes
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
  watchdog_.cancel();
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
  if (peer_eof_) {  // the client is done sending: nothing to wait for
    Close();
    return;
  }
  phase_ = Phase::kLingering;
  beast::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  timer_.expires_after(kLingerTime);
  timer_.async_wait([self = shared_from_this()](beast::error_code e) {
    if (!e) self->Close();
  });
  WaitReadable();  // OnReadable discards what arrives; EOF closes
}

// One timer serves both deadlines: it is set for the earliest one and, when it fires, either
// acts or re-arms for the deadline that has moved on meanwhile (progress only moves deadlines
// later, so most reads and writes never touch the timer).
void Connection::ArmWatchdog() {
  Clock::time_point next = Clock::time_point::max();
  if (phase_ == Phase::kReading) next = read_deadline_;
  if (in_flight_ > 0) next = std::min(next, write_deadline_);
  if (next == Clock::time_point::max()) return;
  if (watchdog_armed_ && watchdog_at_ <= next) return;  // fires first; re-arms then
  watchdog_armed_ = true;
  watchdog_at_ = next;
  watchdog_.expires_at(next);
  watchdog_.async_wait([self = shared_from_this(), generation = ++watchdog_generation_](
                           beast::error_code) { self->OnWatchdog(generation); });
}

void Connection::OnWatchdog(uint64_t generation) {
  if (generation != watchdog_generation_ || phase_ == Phase::kClosed) return;  // superseded
  watchdog_armed_ = false;
  const Clock::time_point now = Clock::now();
  if (in_flight_ > 0 && now >= write_deadline_) {
    spdlog::debug("http: closing a connection whose write made no progress for {} ms",
                  core_->options.send_timeout.count());
    PeerGone();
    return;
  }
  if (phase_ == Phase::kReading && now >= read_deadline_) {
    if (!request_started_) {
      Close();  // idle: nothing is owed
    } else {
      AnswerAndLinger(EmptyResponse(408));
    }
    return;
  }
  ArmWatchdog();
}

}  // namespace sg::http
