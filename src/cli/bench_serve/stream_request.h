// One streamed request, asynchronous on a caller's io_context: connect, POST, read the SSE body as
// it arrives (Beast de-chunks it), and time every token event with std::chrono::steady_clock.
// Many requests share one io_context and one thread; none holds a thread while it waits.
// Thread rules: StartStreamRequest and the `done` callback run on the io_context's thread
// (a single-threaded io_context: the benchmark's own loop).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_serve/request_body.h"
#include "cli/bench_serve/target.h"

namespace sg::benchserve {

using Clock = std::chrono::steady_clock;

struct RequestResult {
  bool ok = false;          // 200, a complete stream, at least one token, no error event
  bool overloaded = false;  // HTTP 429, or an in-band "overloaded" error: counted apart
  int http_status = 0;      // 0 when no response header arrived
  std::string error;        // why it failed (empty when ok)
  std::optional<double> retry_after_s;  // the Retry-After header, when it held seconds

  // Seconds from the moment the request was started (before connect, so a loopback TCP handshake
  // of a few tens of microseconds is inside TTFT and e2e, as with any client without a pool).
  double start_s = 0;         // start, relative to the start of the benchmark point
  double ttft_s = 0;          // request start -> first token event
  double e2e_s = 0;           // request start -> end of the stream
  std::vector<double> itl_s;  // every gap between consecutive token events (events - 1 entries)
  int64_t token_events = 0;
  // Output tokens: the server's count (native details.generated_tokens, OpenAI usage) when it
  // reported one, else the token events.
  int64_t output_tokens = 0;
  std::optional<int64_t> prompt_tokens;  // the server's count, when reported
  size_t prompt_index = 0;               // which workload prompt was sent
};

struct StreamRequestSpec {
  Endpoint endpoint = Endpoint::kGenerateStream;
  std::string body;                     // from BuildRequestBody
  std::chrono::milliseconds timeout{};  // for the whole request, connect to last byte
  Clock::time_point point_start;        // origin of RequestResult::start_s
  size_t prompt_index = 0;
};

// Starts the request; `done` is called exactly once, on the io_context's thread, even on errors.
// `target` must outlive the request.
void StartStreamRequest(boost::asio::io_context& io, const Target& target, StreamRequestSpec spec,
                        std::function<void(RequestResult)> done);

}  // namespace sg::benchserve
