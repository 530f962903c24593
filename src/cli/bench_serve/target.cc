// URL parsing, name resolution and the blocking one-shot requests done before a run starts.
#include "cli/bench_serve/target.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sg::benchserve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

bool AllDigits(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

StatusOr<Url> ParseUrl(std::string_view url) {
  const std::string original(url);
  if (url.starts_with("https://")) {
    return InvalidArgumentError("bad URL \"" + original +
                                "\": https is not supported (use http://, e.g. via a local proxy)");
  }
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.find("://") != std::string_view::npos) {
    return InvalidArgumentError("bad URL \"" + original + "\": only http:// is supported");
  }
  Url out;
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.base_path = std::string(url.substr(slash));
    while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  }
  std::string_view port;
  bool has_port = false;
  if (authority.starts_with("[")) {  // [::1]:3000
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgumentError("bad URL \"" + original + "\": unclosed '[' in the host");
    }
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return InvalidArgumentError("bad URL \"" + original + "\"");
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
  }
  if (out.host.empty()) return InvalidArgumentError("bad URL \"" + original + "\": no host");
  if (out.host.find_first_of(" @?#") != std::string::npos) {
    return InvalidArgumentError("bad URL \"" + original + "\": bad host \"" + out.host + "\"");
  }
  if (!has_port) {
    out.port = "80";
  } else if (!AllDigits(port) || std::stoi(std::string(port)) == 0 ||
             std::stoi(std::string(port)) > 65535) {
    return InvalidArgumentError("bad URL \"" + original + "\": bad port \"" + std::string(port) +
                                "\"");
  } else {
    out.port = std::string(port);
  }
  return out;
}

std::string Target::HostHeader() const {
  const bool v6 = url.host.find(':') != std::string::npos;
  return (v6 ? "[" + url.host + "]" : url.host) + ":" + url.port;
}

StatusOr<Target> ResolveTarget(const Url& url) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  Target t{url, resolver.resolve(url.host, url.port, ec)};
  if (ec || t.endpoints.empty()) {
    return NotFoundError("cannot resolve host \"" + url.host + "\": " + ec.message());
  }
  return t;
}

Status CheckReachable(const Target& target, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  boost::system::error_code result;
  stream.async_connect(target.endpoints,
                       [&](boost::system::error_code ec, const auto&) { result = ec; });
  io.run();
  if (result) {
    return IoError("cannot connect to " + target.HostHeader() + ": " + result.message() +
                   " (is the server running?)");
  }
  return OkStatus();
}

StatusOr<HttpReply> PostJson(const Target& target, std::string_view path,
                             const std::string& json_body, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  http::request<http::string_body> req{http::verb::post, target.url.base_path + std::string(path),
                                       11};
  req.set(http::field::host, target.HostHeader());
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.body() = json_body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  boost::system::error_code result;
  // Chained on one io_context so the single deadline covers connect, write and read.
  stream.async_connect(target.endpoints, [&](boost::system::error_code ec, const auto&) {
    if (ec) {
      result = ec;
      return;
    }
    http::async_write(stream, req, [&](boost::system::error_code ec, size_t) {
      if (ec) {
        result = ec;
        return;
      }
      http::async_read(stream, buffer, res,
                       [&](boost::system::error_code ec, size_t) { result = ec; });
    });
  });
  io.run();
  if (result) {
    return IoError("POST " + target.HostHeader() + std::string(path) + ": " + result.message());
  }
  return HttpReply{static_cast<int>(res.result_int()), std::move(res.body())};
}

}  // namespace sg::benchserve
