// The listener and the I/O threads; connections live in connection.cc.
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cerrno>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "server/http/connection.h"
#include "server/http/http_server.h"
#include "server/http/server_core.h"

namespace sg::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class ServerImpl : public Server {
 public:
  explicit ServerImpl(const ServerOptions& options)
      : core_(std::make_shared<ServerCore>(options)),
        acceptor_(asio::make_strand(core_->ioc)),
        accept_timer_(acceptor_.get_executor()),
        work_(asio::make_work_guard(core_->ioc)) {}
  ~ServerImpl() override { Stop(); }

  void Route(std::string method, std::string path, RouteOptions options, Handler handler) override {
    core_->routes.Add(std::move(method), std::move(path), options, std::move(handler));
  }

  Status Start() override {
    if (started_) return InternalError("http server: Start called twice");
    boost::system::error_code ec;
    asio::ip::address address = asio::ip::make_address(core_->options.hostname, ec);
    if (ec) {
      spdlog::warn("hostname '{}' is not an IP address; listening on 0.0.0.0 (as TGI does)",
                   core_->options.hostname);
      address = asio::ip::address_v4::any();
    }
    const tcp::endpoint endpoint(address, core_->options.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return IoError("cannot listen on " + address.to_string() + ":" +
                     std::to_string(core_->options.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    started_ = true;
    Accept();
    for (int i = 0; i < core_->options.io_threads; ++i) {
      threads_.emplace_back([core = core_] { RunIoThread(*core); });
    }
    return OkStatus();
  }

  uint16_t port() const override { return port_; }

  void StopAccepting() override {
    if (stopped_.load()) return;  // the acceptor is closed already
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      accept_timer_.cancel();
    });
  }

  void BeginShutdown() override {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mu_);
      if (draining_ || stopping_) return;
      draining_ = true;
      for (auto& weak : connections_) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
    }
    StopAccepting();
    for (auto& c : open) c->BeginDrain();
  }

  void Shutdown(std::chrono::steady_clock::time_point deadline) override {
    BeginShutdown();
    while (core_->open_connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (const int64_t left = core_->open_connections.load(); left > 0) {
      spdlog::warn("http: closing {} connection(s) that did not finish writing in time", left);
    }
    Stop();
  }

  // Closes the acceptor and every connection, lets the I/O threads run out of work (every
  // pending operation ends with operation_aborted), joins them, then runs on this thread whatever
  // was posted meanwhile, so the io_context's queue is empty when we return.
  void Stop() override {
    if (stopped_.load()) return;
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      for (auto& weak : connections_) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
      connections_.clear();
    }
    StopAccepting();
    stopped_.store(true);
    for (auto& c : open) c->CloseFromServer();
    open.clear();
    work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
    core_->MarkStopped();
    core_->ioc.restart();
    core_->ioc.poll();
  }

  int64_t open_connections() const override { return core_->open_connections.load(); }

 private:
  // An I/O thread. An exception escaping a handler is a bug (parsers and handlers catch their
  // own), but it must not take the process down with std::terminate: log it and run on.
  static void RunIoThread(ServerCore& core) {
    for (;;) {
      try {
        core.ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: an I/O handler threw: {}", e.what());
      } catch (...) {
        spdlog::error("http: an I/O handler threw a non-standard exception");
      }
    }
  }

  // Runs on the acceptor's strand.
  void Accept() {
    acceptor_.async_accept(asio::make_strand(core_->ioc), [this](boost::system::error_code ec,
                                                                 tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        OnAcceptError(ec);
        return;
      }
      if (accept_failures_ > 0) {
        spdlog::info(
            "http: accepting again after {} refused accept(s) over {:.1f} s", accept_failures_,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - accept_failing_since_)
                .count());
        accept_failures_ = 0;
        accept_backoff_ = std::chrono::milliseconds(0);
      }
      auto connection = std::make_shared<Connection>(std::move(socket), core_);
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;  // the connection closes as it is destroyed
        std::erase_if(connections_, [](const auto& w) { return w.expired(); });
        connections_.push_back(connection);
        connection->Start();
        if (draining_) connection->BeginDrain();
      }
      Accept();
    });
  }

  // Out of descriptors (EMFILE, ENFILE) or kernel memory (ENOBUFS, ENOMEM): accepting again at
  // once would fail at once, a busy loop. Wait, doubling from 10 ms to 1 s, while the open
  // connections go on being served; log the first failure, then one summary a minute. Other
  // errors belong to one connection (ECONNABORTED: the client left the backlog): accept on.
  void OnAcceptError(const boost::system::error_code& ec) {
    const int e = ec.value();
    const bool exhausted = ec.category() == boost::system::system_category() &&
                           (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM);
    if (!exhausted) {
      spdlog::debug("http accept: {}", ec.message());
      Accept();
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (accept_failures_++ == 0) {
      accept_failing_since_ = now;
      last_accept_log_ = now;
      rlimit limit{};
      getrlimit(RLIMIT_NOFILE, &limit);
      spdlog::warn(
          "http accept: {} (descriptor limit {}, {} connections open); pausing new connections "
          "until descriptors are free, the open ones are still served",
          ec.message(), static_cast<long long>(limit.rlim_cur), core_->open_connections.load());
    } else if (now - last_accept_log_ >= std::chrono::minutes(1)) {
      last_accept_log_ = now;
      spdlog::warn("http accept: still {} ({} refused accept(s) so far)", ec.message(),
                   accept_failures_);
    }
    accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                                 std::chrono::milliseconds(1000));
    accept_timer_.expires_after(accept_backoff_);
    accept_timer_.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) Accept();
    });
  }

  const std::shared_ptr<ServerCore> core_;  // first: everything below uses its io_context
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_;  // the back-off after EMFILE; on the acceptor's strand
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool started_ = false;
  std::atomic<bool> stopped_{false};  // Stop is called by the owner, once or more
  std::mutex mu_;                     // guards stopping_ and connections_ (the acceptor vs Stop)
  bool stopping_ = false;
  bool draining_ = false;  // BeginShutdown was called
  std::vector<std::weak_ptr<Connection>> connections_;
  // Accept failures for lack of descriptors (acceptor's strand only).
  int64_t accept_failures_ = 0;
  std::chrono::milliseconds accept_backoff_{0};
  std::chrono::steady_clock::time_point accept_failing_since_{};
  std::chrono::steady_clock::time_point last_accept_log_{};
};

}  // namespace

StatusOr<std::unique_ptr<Server>> Server::Create(const ServerOptions& options) {
  if (options.payload_limit == 0 || options.io_threads < 1 || options.max_header_bytes == 0) {
    return InvalidArgumentError(
        "http server: payload_limit, io_threads and max_header_bytes must be positive");
  }
  return std::unique_ptr<Server>(new ServerImpl(options));
}

}  // namespace sg::http
