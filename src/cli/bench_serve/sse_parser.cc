// The line and field rules of text/event-stream, byte by byte (streams are short: a few hundred
// bytes per token, so a per-byte loop costs nothing next to the network).
#include "cli/bench_serve/sse_parser.h"

namespace sg::benchserve {

void SseParser::Feed(std::string_view bytes, const EventFn& on_event) {
  for (const char c : bytes) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') continue;  // the second half of a "\r\n" that was split across reads
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      EndLine(on_event);
      continue;
    }
    line_.push_back(c);
  }
}

void SseParser::Finish(const EventFn& on_event) {
  if (!line_.empty()) EndLine(on_event);
  if (has_data_) EndLine(on_event);  // an empty line dispatches
  skip_lf_ = false;
}

void SseParser::EndLine(const EventFn& on_event) {
  if (line_.empty()) {  // blank line: dispatch
    if (has_data_) on_event(data_);
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line_.front() == ':') {
    ++comments_;
    line_.clear();
    return;
  }
  const size_t colon = line_.find(':');
  const std::string_view field = std::string_view(line_).substr(0, colon);
  std::string_view value;
  if (colon != std::string::npos) {
    value = std::string_view(line_).substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  line_.clear();
}

}  // namespace sg::benchserve
