// GCC's -Wmaybe-uninitialized misfires inside Beast's parser (a boost::optional content length)
// when ASan changes inlining; the warning is about Boost's code, which is fine.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "server/http/request_reader.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <exception>
#include <string>

#include "server/http/message_framing.h"
#include "server/http/routing.h"

namespace sg::http {

namespace bhttp = boost::beast::http;
using boost::beast::string_view;
using boost::system::error_code;

namespace {

// Unconsumed bytes the parser may hold in the body phase: a chunk-size line with its extensions,
// or the trailer section, waiting for its end. Past this the body is refused without waiting.
constexpr size_t kMaxPendingFramingBytes = kMaxTrailerBytes + kMaxChunkExtensionBytes + 64;

// Bytes of a body reserved up front at most: a Content-Length is a claim, not a promise.
constexpr size_t kMaxBodyReserve = 64 * 1024;

// True if the request line's version is a well-formed "HTTP/d.d" other than 1.0 and 1.1 (Beast
// calls both that and a malformed version bad_version; hyper answers the first 505, the second
// 400). Beast stops at the eighth character of the version, so that is all that is looked at:
// the answer is the same however the bytes arrive.
bool IsUnsupportedVersion(std::string_view bytes) {
  while (bytes.substr(0, 2) == "\r\n") bytes.remove_prefix(2);
  const size_t first = bytes.find(' ');
  const size_t second = first == std::string_view::npos ? first : bytes.find(' ', first + 1);
  if (second == std::string_view::npos) return false;
  const std::string_view v = bytes.substr(second + 1, 8);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return v.size() == 8 && v.substr(0, 5) == "HTTP/" && digit(v[5]) && v[6] == '.' && digit(v[7]) &&
         v != "HTTP/1.0" && v != "HTTP/1.1";
}

}  // namespace

Response BodyReadErrorResponse() {
  return Response{400,
                  "text/plain; charset=utf-8",
                  {},
                  "Failed to buffer the request body: error reading a body from connection"};
}

// Beast's request parser with our callbacks: fields into our Request, trailers checked and
// dropped. A callback that refuses something sets `failure` and an error code, which stops
// the parse.
class RequestReader::Parser final : public bhttp::basic_parser<true> {
 public:
  explicit Parser(const ServerOptions& options) {
    body_limit(options.payload_limit);
    header_limit(static_cast<uint32_t>(std::min<size_t>(options.max_header_bytes, 1u << 30)));
  }

  Request request;
  int version = 11;
  bhttp::verb method = bhttp::verb::unknown;
  std::optional<Response> failure;
  // The end of the bytes handed to the current put(): the trailer check reads up to it.
  const char* feed_end = nullptr;

 private:
  void on_request_impl(bhttp::verb m, string_view method_string, string_view target, int v,
                       error_code& ec) override {
    if (v != 10 && v != 11) {
      failure = EmptyResponse(505);
      ec = bhttp::error::bad_version;
      return;
    }
    method = m;
    version = v;
    request.method.assign(method_string.data(), method_string.size());
    const std::string_view t(target.data(), target.size());
    const size_t q = t.find('?');
    request.path = std::string(t.substr(0, q));
    if (q != std::string_view::npos) request.query = std::string(t.substr(q + 1));
  }

  void on_response_impl(int, string_view, int, error_code& ec) override {
    ec = bhttp::error::bad_method;  // never called for a request parser
  }

  void on_field_impl(bhttp::field, string_view name, string_view value, error_code& ec) override {
    if (is_header_done()) return;  // a trailer field: checked whole in on_chunk_header_impl
    if (request.headers.size() >= kMaxHeaderFields) {
      failure = EmptyResponse(431);
      ec = bhttp::error::header_limit;
      return;
    }
    request.headers.emplace_back(Lowercase(std::string_view(name.data(), name.size())),
                                 std::string(value.data(), value.size()));
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override {
    if (content_length) {
      request.body.reserve(
          static_cast<size_t>(std::min<uint64_t>(*content_length, kMaxBodyReserve)));
    }
  }

  size_t on_body_impl(string_view body, error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override {
    extension_bytes_ += extensions.size();
    if (extension_bytes_ > kMaxChunkExtensionBytes) {
      failure = BodyReadErrorResponse();
      ec = bhttp::error::bad_chunk_extension;
      return;
    }
    if (size != 0) return;
    // The last chunk: Beast calls this once the whole trailer section is buffered, and parses
    // its fields next. Check the raw section here, where obs-fold and bad bytes are still
    // visible: from the end of the last-chunk line to the blank line that ends the body.
    const char* line_end = extensions.data() + extensions.size();
    const std::string_view rest(line_end, static_cast<size_t>(feed_end - line_end));
    const size_t crlf = rest.find("\r\n");
    const size_t end = crlf == std::string_view::npos ? crlf : rest.find("\r\n\r\n", crlf);
    const std::string_view section =
        end == std::string_view::npos ? std::string_view() : rest.substr(crlf + 2, end + 2 - crlf);
    // `section` ends with the CRLF of the blank line; an empty trailer is just that CRLF.
    if (section.empty() || section.size() - 2 > kMaxTrailerBytes ||
        std::count(section.begin(), section.end(), '\n') - 1 >
            static_cast<std::ptrdiff_t>(kMaxTrailerFields) ||
        !FieldLinesAreValid(section)) {
      failure = BodyReadErrorResponse();
      ec = bhttp::error::bad_chunk;
    }
  }

  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    request.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  size_t extension_bytes_ = 0;
};

RequestReader::RequestReader(const ServerOptions& options)
    : parser_(std::make_unique<Parser>(options)) {}

RequestReader::~RequestReader() = default;

bool RequestReader::head_done() const { return parser_->is_header_done(); }

Framing RequestReader::framing() const {
  return Framing{parser_->version == 10 ? 0 : 1, parser_->keep_alive(),
                 parser_->method == bhttp::verb::head};
}

bool RequestReader::expects_continue() const {
  return parser_->version >= 11 && Lowercase(parser_->request.Header("expect")) == "100-continue";
}

Request RequestReader::TakeRequest() { return std::move(parser_->request); }

RequestReader::Progress RequestReader::Fail(Response response) {
  failure_ = std::move(response);
  return Progress::kFailed;
}

RequestReader::Progress RequestReader::Feed(std::string_view bytes, size_t* consumed) {
  *consumed = 0;
  if (failure_) return Progress::kFailed;
  if (done_) return Progress::kDone;
  try {
    return FeedUnguarded(bytes, consumed);
  } catch (...) {
    // Anything thrown while reading client bytes (a length_error, bad_alloc, a Beast bug) ends
    // this request with an answer, never the process.
    return Fail(head_done() ? BodyReadErrorResponse() : EmptyResponse(400));
  }
}

RequestReader::Progress RequestReader::FeedUnguarded(std::string_view bytes, size_t* consumed) {
  Parser& p = *parser_;
  error_code ec;
  auto fail_from = [&](const error_code& e) {
    if (p.failure) return Fail(*p.failure);
    if (e == bhttp::error::body_limit) return Fail(PayloadTooLargeResponse());
    if (e == bhttp::error::bad_version && IsUnsupportedVersion(bytes))
      return Fail(EmptyResponse(505));
    if (!p.is_header_done())
      return Fail(EmptyResponse(e == bhttp::error::header_limit ? 431 : 400));
    return Fail(BodyReadErrorResponse());
  };
  if (!p.is_header_done()) {
    p.feed_end = bytes.data() + bytes.size();
    const size_t used = p.put(boost::asio::const_buffer(bytes.data(), bytes.size()), ec);
    // The request line may be consumed before the fields are complete: keep the head's bytes
    // until it ends, to check them whole.
    head_.append(bytes.data(), used);
    *consumed = used;
    if (ec == bhttp::error::need_more) return Progress::kNeedMore;
    if (ec) return fail_from(ec);
    if (!p.is_header_done()) return Progress::kNeedMore;
    if (!HeadBytesAreValid(head_)) return Fail(EmptyResponse(400));
    if (auto refusal = CheckFraming(p.request.headers, p.version)) return Fail(*refusal);
    head_.clear();
    head_.shrink_to_fit();
    p.eager(true);
    if (p.is_done()) {
      done_ = true;
      return Progress::kDone;
    }
    return Progress::kHead;
  }
  size_t total = 0;
  while (!p.is_done() && total < bytes.size()) {
    p.feed_end = bytes.data() + bytes.size();
    const size_t used =
        p.put(boost::asio::const_buffer(bytes.data() + total, bytes.size() - total), ec);
    total += used;
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      *consumed = total;
      return fail_from(ec);
    }
    if (used == 0) break;
  }
  *consumed = total;
  if (p.is_done()) {
    done_ = true;
    return Progress::kDone;
  }
  // What the parser holds back is a chunk-size line or the trailer section, still open.
  if (bytes.size() - total > kMaxPendingFramingBytes) return Fail(BodyReadErrorResponse());
  return Progress::kNeedMore;
}

}  // namespace sg::http
