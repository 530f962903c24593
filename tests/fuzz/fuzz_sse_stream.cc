// Fuzzes what streamgen parses from a streaming peer: bench-serve's incremental SSE parser and its
// reading of each event on every endpoint (the bytes come from whatever server it benchmarks),
// and the resumable streams' Last-Event-ID parser (a client's header). Byte 0 chooses the size of
// the pieces a second parse is fed in: the events must not depend on where the reads split the
// stream (a "\r\n" or a "data:" cut in two). Must never crash, hang, leak or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/bench_serve/sse_parser.h"
#include "cli/bench_serve/stream_event.h"
#include "server/http/resumable_streams.h"

namespace {

std::vector<std::string> Parse(std::string_view bytes, size_t piece) {
  std::vector<std::string> events;
  const sg::benchserve::SseParser::EventFn collect = [&](std::string_view data) {
    events.emplace_back(data);
  };
  sg::benchserve::SseParser parser;
  for (size_t i = 0; i < bytes.size(); i += piece) parser.Feed(bytes.substr(i, piece), collect);
  parser.Finish(collect);
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 16;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<std::string> whole = Parse(bytes, bytes.size() + 1);
  if (Parse(bytes, piece) != whole) std::abort();  // a split changed the events
  for (const std::string& event : whole) {
    for (auto endpoint :
         {sg::benchserve::Endpoint::kGenerateStream, sg::benchserve::Endpoint::kCompletions,
          sg::benchserve::Endpoint::kChat}) {
      const sg::benchserve::StreamEvent e = sg::benchserve::InterpretEvent(endpoint, event);
      if (e.overloaded && !e.error) std::abort();  // an overload is always an error
    }
  }
  std::string stream_id;
  uint64_t seq = 0;
  if (sg::http::ParseLastEventId(bytes, &stream_id, &seq) && stream_id.size() != 32) std::abort();
  return 0;
}
