// The SseStream handed to a handler: formats each event ("data: <payload>\n\n", one chunk) on
// the caller's thread and posts it to its connection's strand, where it joins the write queue.
//
// Slow-reader policy: the bytes posted but not yet written are counted (pending_bytes). Once they
// exceed ServerOptions::max_stream_pending_bytes (default 8 MiB), the stream is closed as if the
// client had gone: Send returns false from then on and the request's OnDisconnect runs, so a
// generation for a client that stopped reading is cancelled instead of buffered without bound.
//
// Thread rules: every method may be called from any thread; none blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "server/http/connection.h"
#include "server/http/http_server.h"

namespace sg::http {

class SseStreamImpl : public SseStream {
 public:
  SseStreamImpl(std::shared_ptr<Connection> connection, uint64_t seq, bool chunked);
  bool Send(std::string payload) override;
  bool SendWithId(std::string payload, std::string_view id, int64_t retry_ms) override;
  void Close() override;
  void Abort() override;
  bool closed() const override { return closed_.load(std::memory_order_acquire); }
  size_t pending_bytes() const override { return pending_.load(std::memory_order_relaxed); }

  // Called by the connection (on its strand).
  void MarkClosed() { closed_.store(true, std::memory_order_release); }
  void Written(size_t n) { pending_.fetch_sub(n, std::memory_order_relaxed); }

 private:
  bool Queue(std::string event);  // one formatted event ("...data: <payload>\n\n")

  const std::shared_ptr<Connection> connection_;
  const uint64_t seq_;
  const bool chunked_;  // false for an HTTP/1.0 client: raw bytes, the end is the close
  const size_t max_pending_;
  std::atomic<bool> closed_{false};
  std::atomic<size_t> pending_{0};
};

}  // namespace sg::http
