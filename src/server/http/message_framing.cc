#include "server/http/message_framing.h"

#include <vector>

#include "server/http/wire.h"

namespace sg::http {
namespace {

bool IsControl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// CR or LF inside a line is a bare one (the CRLF pairs were split off); other controls but HTAB
// are refused too.
bool LineBytesAreValid(std::string_view line) {
  for (char c : line) {
    if (IsControl(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The comma-separated elements of a list-valued field, OWS trimmed, empty elements dropped
// (RFC 9110 §5.6.1), lowercased.
void AppendListElements(std::string_view value, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view element = value.substr(start, comma - start);
    while (!element.empty() && (element.front() == ' ' || element.front() == '\t')) {
      element.remove_prefix(1);
    }
    while (!element.empty() && (element.back() == ' ' || element.back() == '\t')) {
      element.remove_suffix(1);
    }
    if (!element.empty()) out.push_back(Lowercase(element));
    start = comma + 1;
  }
}

}  // namespace

bool FieldLinesAreValid(std::string_view block) {
  size_t pos = 0;
  while (pos < block.size()) {
    const size_t crlf = block.find("\r\n", pos);
    if (crlf == std::string_view::npos) return false;  // every line ends with CRLF
    const std::string_view line = block.substr(pos, crlf - pos);
    pos = crlf + 2;
    if (line.empty()) return pos == block.size();  // the blank line ends the block
    if (!LineBytesAreValid(line)) return false;
    if (line.front() == ' ' || line.front() == '\t') return false;  // obs-fold
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    for (size_t i = 0; i < colon; ++i) {
      if (line[i] == ' ' || line[i] == '\t') return false;  // whitespace before the colon
    }
  }
  return false;  // no blank line
}

bool HeadBytesAreValid(std::string_view head) {
  // Empty lines before the request line are ignored (RFC 9112 §2.2).
  while (head.substr(0, 2) == "\r\n") head.remove_prefix(2);
  const size_t crlf = head.find("\r\n");
  if (crlf == std::string_view::npos || !LineBytesAreValid(head.substr(0, crlf))) return false;
  return FieldLinesAreValid(head.substr(crlf + 2));
}

std::optional<Response> CheckFraming(const Headers& headers, int version) {
  std::vector<std::string> codings;
  bool has_transfer_encoding = false;
  int content_lengths = 0;
  int hosts = 0;
  std::string_view content_length;
  for (const auto& [name, value] : headers) {
    if (name == "transfer-encoding") {
      has_transfer_encoding = true;
      AppendListElements(value, codings);
    } else if (name == "content-length") {
      ++content_lengths;
      content_length = value;
    } else if (name == "host") {
      ++hosts;
    }
  }
  if (hosts > 1) return EmptyResponse(400);  // RFC 9112 §3.2: more than one Host line
  if (content_lengths > 1) return EmptyResponse(400);
  if (content_lengths == 1) {
    // 1*DIGIT and nothing else: no sign, no list ("5, 5"), no inner whitespace.
    if (content_length.empty() || content_length.size() > 19) return EmptyResponse(400);
    for (char c : content_length) {
      if (c < '0' || c > '9') return EmptyResponse(400);
    }
  }
  if (!has_transfer_encoding) return std::nullopt;
  // §6.1: Transfer-Encoding on HTTP/1.0 is faulty framing; §6.3: with Content-Length it is a
  // smuggling shape (we refuse rather than pick one); the final coding must be chunked, once.
  if (version < 11 || content_lengths > 0) return EmptyResponse(400);
  if (codings.empty() || codings.back() != "chunked") return EmptyResponse(400);
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    if (codings[i] == "chunked") return EmptyResponse(400);
  }
  // A coding applied before chunked (gzip, deflate, ...) is one we do not decode (§6.1: 501).
  if (codings.size() > 1) return EmptyResponse(501);
  return std::nullopt;
}

}  // namespace sg::http
