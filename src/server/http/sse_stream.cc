// SseStreamImpl, and the connection's side of a stream: head, events, keep-alive comments, end.
#include "server/http/sse_stream.h"

#include <spdlog/spdlog.h>

#include "server/http/connection.h"
#include "server/http/wire.h"

namespace sg::http {

namespace {
constexpr std::string_view kKeepAliveComment = ":\n\n";
}  // namespace

SseStreamImpl::SseStreamImpl(std::shared_ptr<Connection> connection, uint64_t seq, bool chunked)
    : connection_(std::move(connection)),
      seq_(seq),
      chunked_(chunked),
      max_pending_(connection_->options().max_stream_pending_bytes) {}

bool SseStreamImpl::Send(std::string payload) {
  std::string event;
  event.reserve(payload.size() + 8);
  event += "data: ";
  event += payload;
  event += "\n\n";
  return Queue(std::move(event));
}

bool SseStreamImpl::SendWithId(std::string payload, std::string_view id, int64_t retry_ms) {
  std::string event;
  event.reserve(payload.size() + id.size() + 32);
  event += "id: ";
  event += id;
  event += '\n';
  if (retry_ms > 0) {
    event += "retry: ";
    event += std::to_string(retry_ms);
    event += '\n';
  }
  event += "data: ";
  event += payload;
  event += "\n\n";
  return Queue(std::move(event));
}

bool SseStreamImpl::Queue(std::string event) {
  if (closed()) return false;
  if (pending_bytes() > max_pending_) {
    // Checked here too, not only on the strand, so a producer faster than the strand cannot fill
    // the io_context's queue either.
    MarkClosed();
    connection_->Post([c = connection_, s = seq_] { c->DropSlowReader(s); });
    return false;
  }
  std::string bytes = chunked_ ? Chunk(event) : std::move(event);
  pending_.fetch_add(bytes.size(), std::memory_order_relaxed);
  connection_->Post([c = connection_, s = seq_, b = std::move(bytes)]() mutable {
    c->SendEvent(s, std::move(b));
  });
  return true;
}

void SseStreamImpl::Close() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  connection_->Post([c = connection_, s = seq_] { c->EndSse(s); });
}

void SseStreamImpl::Abort() {
  if (closed_.exchange(true, std::memory_order_acq_rel)) return;
  connection_->Post([c = connection_, s = seq_] { c->AbortSse(s); });
}

void Connection::StartSse(uint64_t seq, std::shared_ptr<SseStreamImpl> stream, Headers headers) {
  if (seq != seq_ || responded_ || phase_ != Phase::kHandling) {
    stream->MarkClosed();
    return;
  }
  responded_ = true;
  phase_ = Phase::kStreaming;
  stream_ = std::move(stream);
  // An HTTP/1.0 body without framing ends when the connection closes.
  if (framing_.http_minor == 0) framing_.keep_alive = false;
  for (auto& h : cors_) headers.push_back(h);
  Enqueue(SerializeSseHead(headers, framing_.http_minor), After::kNothing);
  last_event_ = std::chrono::steady_clock::now();
  ArmKeepAlive();
}

void Connection::SendEvent(uint64_t seq, std::string bytes) {
  if (seq != seq_ || phase_ != Phase::kStreaming || !stream_) return;
  if (stream_->pending_bytes() > core_->options.max_stream_pending_bytes) {
    DropSlowReader(seq);
    return;
  }
  last_event_ = std::chrono::steady_clock::now();
  const size_t n = bytes.size();
  Enqueue(std::move(bytes), After::kNothing, n);
}

void Connection::DropSlowReader(uint64_t seq) {
  if (seq != seq_ || phase_ != Phase::kStreaming || !stream_) return;
  spdlog::warn("closing an SSE stream whose client stopped reading ({} bytes queued)",
               stream_->pending_bytes());
  PeerGone();
}

void Connection::AbortSse(uint64_t seq) {
  if (seq != seq_ || phase_ != Phase::kStreaming) return;
  PeerGone();  // no final chunk: the client sees the body cut, as after a network failure
}

void Connection::EndSse(uint64_t seq) {
  if (seq != seq_ || phase_ != Phase::kStreaming) return;
  phase_ = Phase::kHandling;  // the body is ending: no more events or keep-alive comments
  timer_.cancel();
  answered_ = true;
  on_disconnect_ = nullptr;
  // After the final chunk an HTTP/1.1 connection is reused (keep-alive) unless the request said
  // `connection: close`.
  if (framing_.http_minor == 0) {
    Enqueue("", After::kClose);
  } else {
    Enqueue(std::string(kLastChunk), framing_.keep_alive ? After::kResponseDone : After::kClose);
  }
}

// One timer per stream, re-armed at last_event_ + keep_alive: events do not touch the timer, the
// expiry handler just checks whether the silence really lasted that long.
void Connection::ArmKeepAlive() {
  if (core_->options.keep_alive.count() <= 0) return;  // keep-alive comments disabled
  timer_.expires_at(last_event_ + core_->options.keep_alive);
  timer_.async_wait([self = shared_from_this(), seq = seq_](boost::system::error_code ec) {
    if (ec || seq != self->seq_ || self->phase_ != Phase::kStreaming) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - self->last_event_ >= self->core_->options.keep_alive) {
      self->last_event_ = now;
      self->Enqueue(self->framing_.http_minor == 0 ? std::string(kKeepAliveComment)
                                                   : Chunk(kKeepAliveComment),
                    After::kNothing);
    }
    self->ArmKeepAlive();
  });
}

}  // namespace sg::http
