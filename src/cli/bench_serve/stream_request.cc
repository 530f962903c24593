// The life of one streamed request: connect -> write -> read header -> read body pieces -> done.
// The body is read with a buffer_body and http::async_read_some, so every piece of the chunked
// body reaches the SSE parser as soon as it arrives (a plain async_read would wait for the end).
#include "cli/bench_serve/stream_request.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <memory>
#include <utility>

#include "cli/bench_serve/sse_parser.h"
#include "cli/bench_serve/stream_event.h"

namespace sg::benchserve {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

constexpr size_t kErrorBodyLimit = 2048;  // bytes of a non-200 body kept for the message

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::optional<double> ParseRetryAfter(std::string_view v) {
  double s = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), s);
  if (ec != std::errc() || ptr != v.data() + v.size() || s < 0) return std::nullopt;
  return s;  // an HTTP-date form is not converted (servers under test send seconds)
}

class StreamCall : public std::enable_shared_from_this<StreamCall> {
 public:
  StreamCall(asio::io_context& io, const Target& target, StreamRequestSpec spec,
             std::function<void(RequestResult)> done)
      : stream_(io), target_(target), spec_(std::move(spec)), done_(std::move(done)) {
    result_.prompt_index = spec_.prompt_index;
  }

  void Start() {
    start_ = Clock::now();
    result_.start_s = Seconds(start_ - spec_.point_start);
    req_ = {http::verb::post, target_.url.base_path + EndpointPath(spec_.endpoint), 11};
    req_.set(http::field::host, target_.HostHeader());
    req_.set(http::field::content_type, "application/json");
    req_.set(http::field::accept, "text/event-stream");
    req_.set(http::field::user_agent, "streamgen-bench-serve");
    req_.set(http::field::connection, "close");  // one connection per request, never reused
    req_.body() = std::move(spec_.body);
    req_.prepare_payload();
    parser_.body_limit(boost::none);  // a stream's length is not known in advance
    stream_.expires_after(spec_.timeout);
    stream_.async_connect(target_.endpoints,
                          [self = shared_from_this()](error_code ec, const auto&) {
                            if (ec) return self->Fail(ec, "connect to " + self->Where());
                            self->Write();
                          });
  }

 private:
  std::string Where() const { return target_.HostHeader(); }

  void Write() {
    http::async_write(stream_, req_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->Fail(ec, "send request");
      http::async_read_header(self->stream_, self->buffer_, self->parser_,
                              [self](error_code ec, size_t) { self->OnHeader(ec); });
    });
  }

  void OnHeader(error_code ec) {
    if (ec) return Fail(ec, "read response header");
    const auto& head = parser_.get();
    result_.http_status = static_cast<int>(head.result_int());
    if (auto it = head.find(http::field::retry_after); it != head.end()) {
      result_.retry_after_s = ParseRetryAfter(it->value());
    }
    if (result_.http_status == 429) result_.overloaded = true;
    ReadSome();
  }

  void ReadSome() {
    if (parser_.is_done()) return Finish();
    parser_.get().body().data = piece_.data();
    parser_.get().body().size = piece_.size();
    parser_.get().body().more = true;
    http::async_read_some(stream_, buffer_, parser_,
                          [self = shared_from_this()](error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(error_code ec) {
    if (ec == http::error::need_buffer) ec = {};  // the piece buffer is full: not an error
    const size_t n = piece_.size() - parser_.get().body().size;
    const std::string_view bytes(piece_.data(), n);
    if (result_.http_status == 200) {
      const Clock::time_point now = Clock::now();
      sse_.Feed(bytes, [&](std::string_view data) { OnEvent(data, now); });
    } else if (error_body_.size() < kErrorBodyLimit) {
      error_body_.append(bytes.substr(0, kErrorBodyLimit - error_body_.size()));
    }
    if (ec) return Fail(ec, "read stream");
    if (finished_) return;
    ReadSome();
  }

  void OnEvent(std::string_view data, Clock::time_point now) {
    if (finished_ || stream_ended_) return;
    const StreamEvent e = InterpretEvent(spec_.endpoint, data);
    if (e.prompt_tokens) result_.prompt_tokens = e.prompt_tokens;
    if (e.completion_tokens) server_output_tokens_ = e.completion_tokens;
    if (e.error) {
      error_event_ = e.error_message.empty() ? std::string("error event") : e.error_message;
      result_.overloaded = result_.overloaded || e.overloaded;
      // Native streams end after the error; OpenAI streams still send [DONE]: keep reading.
    }
    if (e.token) {
      if (result_.token_events == 0) {
        result_.ttft_s = Seconds(now - start_);
      } else {
        result_.itl_s.push_back(Seconds(now - last_token_));
      }
      last_token_ = now;
      ++result_.token_events;
    }
    if (e.done) {
      stream_ended_ = true;
      end_ = now;
    }
  }

  void Fail(error_code ec, const std::string& what) {
    if (finished_) return;
    // The stream already said all it had to (its end, or an error) before the connection broke.
    if (result_.http_status == 200 && (stream_ended_ || !error_event_.empty())) return Finish();
    if (ec == beast::error::timeout) {
      result_.error = what + ": timed out after " +
                      std::to_string(std::chrono::duration<double>(spec_.timeout).count()) + " s";
    } else {
      result_.error = what + ": " + ec.message();
    }
    if (result_.http_status != 0 && result_.http_status != 200) return Finish();
    Deliver();
  }

  // The body is complete (or the server closed it): classify and deliver.
  void Finish() {
    if (finished_) return;
    if (result_.http_status == 200) {
      sse_.Finish([&](std::string_view data) { OnEvent(data, Clock::now()); });
      if (!error_event_.empty()) {
        result_.error = "error event: " + error_event_;
      } else if (!stream_ended_ && result_.error.empty()) {
        result_.error = "the stream ended before its final event";
      } else if (result_.token_events == 0 && result_.error.empty()) {
        result_.error = "the stream had no token event";
      }
    } else {
      result_.error = "HTTP " + std::to_string(result_.http_status) + ": " + error_body_;
    }
    Deliver();
  }

  void Deliver() {
    finished_ = true;
    const Clock::time_point now = Clock::now();
    result_.e2e_s = Seconds((stream_ended_ ? end_ : now) - start_);
    result_.output_tokens = server_output_tokens_.value_or(result_.token_events);
    result_.ok = result_.error.empty();
    error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    auto done = std::move(done_);
    done(std::move(result_));
  }

  beast::tcp_stream stream_;
  const Target& target_;
  StreamRequestSpec spec_;
  std::function<void(RequestResult)> done_;
  http::request<http::string_body> req_;
  http::response_parser<http::buffer_body> parser_;
  beast::flat_buffer buffer_;
  std::array<char, 16384> piece_{};  // one read's worth of body bytes
  SseParser sse_;
  RequestResult result_;
  Clock::time_point start_, last_token_, end_;
  std::optional<int64_t> server_output_tokens_;
  std::string error_event_;    // the first in-band error's message
  std::string error_body_;     // the start of a non-200 body
  bool stream_ended_ = false;  // final native event or [DONE] seen
  bool finished_ = false;      // done_ was called
};

}  // namespace

void StartStreamRequest(asio::io_context& io, const Target& target, StreamRequestSpec spec,
                        std::function<void(RequestResult)> done) {
  std::make_shared<StreamCall>(io, target, std::move(spec), std::move(done))->Start();
}

}  // namespace sg::benchserve
