// GCC's -Wmaybe-uninitialized misfires inside Beast's parser (a boost::optional content length)
// when ASan changes inlining; the warning is about Boost's code, which is fine.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "server/http/request_parse.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include "server/http/cors.h"
#include "server/http/wire.h"

namespace sg::http {

namespace bhttp = boost::beast::http;

Request ToRequest(BeastRequest&& message) {
  Request r;
  r.method = std::string(message.method_string());
  const std::string_view target(message.target().data(), message.target().size());
  const size_t q = target.find('?');
  r.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) r.query = std::string(target.substr(q + 1));
  r.headers.reserve(8);
  for (const auto& field : message) {
    const auto name = field.name_string();
    const auto value = field.value();
    r.headers.emplace_back(Lowercase(std::string_view(name.data(), name.size())),
                           std::string(value.data(), value.size()));
  }
  r.body = std::move(message.body());
  return r;
}

bool ExpectsContinue(const BeastRequest& message) {
  if (message.version() < 11) return false;
  const auto v = message[bhttp::field::expect];
  return Lowercase(std::string_view(v.data(), v.size())) == "100-continue";
}

std::optional<Response> ParseErrorResponse(const boost::system::error_code& ec) {
  if (ec == bhttp::error::body_limit) return PayloadTooLargeResponse();
  if (ec == bhttp::error::header_limit) return Response{431, "", {}, ""};
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return Response{400, "", {}, ""};  // hyper's answer to a malformed request: 400, empty
  }
  return std::nullopt;  // a socket error
}

int DecideFromBytes(std::string_view bytes, const RouteTable& routes,
                    const ServerOptions& options) {
  bhttp::request_parser<bhttp::string_body> parser;
  ApplyLimits(parser, options);
  parser.eager(true);
  boost::system::error_code ec;
  size_t offset = 0;
  // All the bytes are there, so "need more" means the request is incomplete.
  while (!parser.is_done()) {
    const size_t used =
        parser.put(boost::asio::const_buffer(bytes.data() + offset, bytes.size() - offset), ec);
    offset += used;
    if (ec == bhttp::error::need_more) return -1;
    if (ec) break;
    if (used == 0) return -1;
  }
  if (ec) {
    const std::optional<Response> r = ParseErrorResponse(ec);
    return r ? r->status : -1;
  }
  BeastRequest& message = parser.get();
  const Framing framing{message.version() == 10 ? 0 : 1, message.keep_alive(),
                        message.method() == bhttp::verb::head};
  const Request request = ToRequest(std::move(message));
  const Decision d = routes.Decide(request, options);
  if (!d.response) return 0;
  const std::string wire = SerializeResponse(*d.response, framing, CorsHeaders(request, options));
  return wire.empty() ? -2 : d.response->status;
}

}  // namespace sg::http
