// A blocking loopback HTTP client for the server tests: plain POSIX sockets, so every byte the
// server writes can be checked. Reads time out after 10 s (a hung test fails instead of hanging).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/http/http_server.h"

namespace sg::http::testing {

class Client {
 public:
  // rcvbuf > 0 shrinks the receive buffer (before connecting, so the window stays small).
  explicit Client(uint16_t port, int rcvbuf = 0) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    SetTimeout(10000);
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  // Closes with a reset (SO_LINGER 0) instead of a FIN.
  void Reset() {
    linger l{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    Close();
  }

  void Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  // Reads until `needle` has arrived; returns (and consumes) everything up to and including it,
  // or everything received if the connection ended or timed out first.
  std::string ReadUntil(const std::string& needle) {
    size_t pos;
    while ((pos = data_.find(needle)) == std::string::npos && Fill()) {
    }
    const size_t end = pos == std::string::npos ? data_.size() : pos + needle.size();
    std::string out = data_.substr(0, end);
    data_.erase(0, end);
    return out;
  }

  // One complete response (head + content-length body), consumed.
  std::string ReadResponse() {
    std::string head = ReadUntil("\r\n\r\n");
    const size_t cl = head.find("content-length: ");
    if (cl == std::string::npos) return head;
    const size_t n = std::strtoul(head.c_str() + cl + 16, nullptr, 10);
    while (data_.size() < n && Fill()) {
    }
    const size_t take = std::min(n, data_.size());
    head += data_.substr(0, take);
    data_.erase(0, take);
    return head;
  }

  // Everything until the server closes the connection.
  std::string ReadToEof() {
    while (Fill()) {
    }
    std::string out;
    out.swap(data_);
    return out;
  }

  // True if the server closed the connection (EOF or reset) within 10 s.
  bool ServerClosed() {
    while (Fill()) {
    }
    return eof_;
  }

  // What arrives within `ms` milliseconds (consumed).
  std::string ReadFor(int ms) {
    SetTimeout(ms);
    while (Fill()) {
    }
    SetTimeout(10000);
    std::string out;
    out.swap(data_);
    return out;
  }

  int fd() const { return fd_; }

 private:
  // One recv; false at EOF, error or timeout.
  bool Fill() {
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) eof_ = true;
      return false;
    }
    data_.append(buf, static_cast<size_t>(n));
    return true;
  }
  void SetTimeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  int fd_ = -1;
  bool eof_ = false;
  std::string data_;
};

// A server on 127.0.0.1 and a free port with options `o` and the route GET /health -> 200, not
// started yet (the test adds its routes, then Start()s it).
inline std::unique_ptr<Server> LoopbackServer(ServerOptions o = {}) {
  o.hostname = "127.0.0.1";
  o.port = 0;
  auto s = Server::Create(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  (*s)->Route("GET", "/health", {}, [](Request&&, std::shared_ptr<ResponseWriter> w) {
    w->Respond({200, "", {}, ""});
  });
  return std::move(*s);
}

inline std::string Post(const std::string& path, const std::string& body,
                        const std::string& extra = "Content-Type: application/json\r\n") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

// The status code of a response ("HTTP/1.1 404 ..." -> 404), 0 if there is none.
inline int StatusOf(const std::string& response) {
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(response.c_str() + 9);
}

inline bool HasHeader(const std::string& response, const std::string& line) {
  const size_t end = response.find("\r\n\r\n");
  const std::string head = end == std::string::npos ? response : response.substr(0, end + 2);
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

// Hands values from handler threads to the test thread (no sleeps: Take waits on a condition).
template <typename T>
class Mailbox {
 public:
  void Put(T value) {
    {
      std::lock_guard lock(mu_);
      items_.push_back(std::move(value));
    }
    cv_.notify_all();
  }
  // The oldest value, waiting up to 10 s; nullopt on timeout.
  std::optional<T> Take() {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10), [&] { return !items_.empty(); })) {
      return std::nullopt;
    }
    T value = std::move(items_.front());
    items_.pop_front();
    return value;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<T> items_;
};

}  // namespace sg::http::testing
