#include "server/http/wire.h"

#include <cstdio>

namespace sg::http {

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 424:
      return "Failed Dependency";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

namespace {

// CR and LF are dropped from names and values: a value that came from a request (an echoed
// Origin, a model id) can never split the response.
void AppendClean(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c != '\r' && c != '\n') out += c;
  }
}

void AppendHeaders(std::string& out, const Headers& headers) {
  for (const auto& [name, value] : headers) {
    AppendClean(out, name);
    out += ": ";
    AppendClean(out, value);
    out += "\r\n";
  }
}

}  // namespace

std::string SerializeResponse(const Response& response, const Framing& framing,
                              const Headers& extra) {
  std::string out;
  out.reserve(192 + response.body.size());
  out += framing.http_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\n";
  if (!response.content_type.empty()) {
    out += "content-type: ";
    out += response.content_type;
    out += "\r\n";
  }
  out += "content-length: ";
  out += std::to_string(response.body.size());
  out += "\r\n";
  if (!framing.keep_alive) {
    out += "connection: close\r\n";
  } else if (framing.http_minor == 0) {
    out += "connection: keep-alive\r\n";
  }
  AppendHeaders(out, response.headers);
  AppendHeaders(out, extra);
  out += "\r\n";
  if (!framing.head) out += response.body;
  return out;
}

std::string SerializeSseHead(const Headers& headers, int http_minor) {
  std::string out = http_minor == 0 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n";
  out += "content-type: text/event-stream\r\ncache-control: no-cache\r\nx-accel-buffering: no\r\n";
  if (http_minor == 0) {
    out += "connection: close\r\n";
  } else {
    out += "transfer-encoding: chunked\r\n";
  }
  AppendHeaders(out, headers);
  out += "\r\n";
  return out;
}

std::string Chunk(std::string_view data) {
  char size[24];
  const int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  std::string out;
  out.reserve(n + data.size() + 2);
  out.append(size, n);
  out.append(data);
  out += "\r\n";
  return out;
}

}  // namespace sg::http
