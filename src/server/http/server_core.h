// What the server and all its connections share: options, routes, the io_context. Connections
// (and through them every ResponseWriter / SseStream a handler still holds) keep it alive, so the
// io_context outlives every socket and timer even when the Server object is gone first.
//
// Thread rules: options and routes are read-only once the server started. Post() may be called
// from any thread; after MarkStopped() it drops the work instead of queueing it, so nothing is
// left in the io_context's queue once the server has stopped (queued handlers hold connections,
// connections hold this: a queue that is never run would be a reference cycle).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <mutex>
#include <utility>

#include "server/http/http_server.h"
#include "server/http/routing.h"

namespace sg::http {

class ServerCore {
  // Declared before ioc so they are destroyed after it: destroying the io_context destroys
  // handlers that were never run, and their destructors may call Post.
  std::mutex mu_;
  bool stopped_ = false;

 public:
  explicit ServerCore(ServerOptions options) : options(std::move(options)) {}

  const ServerOptions options;
  RouteTable routes;
  boost::asio::io_context ioc;
  std::atomic<int64_t> open_connections{0};

  // Queues `fn` on `executor` (a connection's strand), unless the server has stopped.
  template <typename Executor, typename Fn>
  void Post(const Executor& executor, Fn fn) {
    std::lock_guard lock(mu_);
    if (!stopped_) boost::asio::post(executor, std::move(fn));
  }  // a dropped `fn` is destroyed after the lock is released (parameters outlive locals)

  void MarkStopped() {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
};

}  // namespace sg::http
