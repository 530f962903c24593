// Incremental Server-Sent Events parser for the client side of a token stream. Bytes arrive in
// arbitrary pieces (an event, a line or a "\r\n" pair may be split across reads); lines end in
// "\r\n", "\n" or "\r"; an event is the `data` fields up to a blank line, several data lines joined
// by "\n" (WHATWG event-stream rules); lines starting with ':' are comments (TGI's keep-alive);
// other fields (event, id, retry) are ignored. One optional space after "data:" is dropped, so
// both TGI's `data: ` and the pre-2.1 `data:` forms parse.
// Thread rules: one instance per stream, used by one thread at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace sg::benchserve {

class SseParser {
 public:
  using EventFn = std::function<void(std::string_view data)>;

  // Parses `bytes`; calls on_event once per complete event that had at least one data field.
  void Feed(std::string_view bytes, const EventFn& on_event);
  // End of the stream. Lenient where the standard discards: a last event that was not closed by a
  // blank line is still delivered (some servers end the body right after the data line).
  void Finish(const EventFn& on_event);

  size_t comments() const { return comments_; }  // keep-alive comment lines seen

 private:
  void EndLine(const EventFn& on_event);

  std::string line_;       // the current, unterminated line
  std::string data_;       // data of the event being assembled
  bool has_data_ = false;  // a data field was seen since the last dispatch
  bool skip_lf_ = false;   // the previous byte was '\r': a '\n' right after it is the same end
  size_t comments_ = 0;
};

}  // namespace sg::benchserve
