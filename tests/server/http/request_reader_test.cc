// RequestReader and DecideConnection: framing (RFC 9112 §6), head bytes, trailers, chunk
// extensions, limits, pipelining, and that delivering the same bytes in any pieces gives the
// same answers. Each case is a request-smuggling or crash shape found against a server like ours.
#include "server/http/request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/http/message_framing.h"
#include "server/http/request_parse.h"
#include "server/http/routing.h"

namespace sg::http {
namespace {

void IgnoreRequest(Request&&, std::shared_ptr<ResponseWriter>) {}

RouteTable ReaderRoutes() {
  RouteTable t;
  t.Add("POST", "/generate", {.json_body = true}, IgnoreRequest);
  t.Add("GET", "/health", {}, IgnoreRequest);
  t.Add("GET", "/info", {}, IgnoreRequest);
  return t;
}

const std::string kJson = "Content-Type: application/json\r\n";

std::string Chunked(const std::string& chunks_and_trailer) {
  return "POST /generate HTTP/1.1\r\nHost: x\r\n" + kJson + "Transfer-Encoding: chunked\r\n\r\n" +
         chunks_and_trailer;
}

std::string WithHeader(const std::string& field_lines) {
  return "GET /health HTTP/1.1\r\nHost: x\r\n" + field_lines + "\r\n";
}

// "<prefix><i>: 1\r\n" (appended piecewise: GCC 12 warns falsely on the chained operator+).
std::string FieldLine(const char* prefix, size_t i) {
  std::string line = prefix;
  line += std::to_string(i);
  line += ": 1\r\n";
  return line;
}

ConnectionOutcome Decide(const std::string& bytes, const ServerOptions& o = {}) {
  return DecideConnection(bytes, {}, ReaderRoutes(), o);
}

// The single answer `bytes` get, checking that the connection closes after an error.
int Status(const std::string& bytes, const ServerOptions& o = {}) {
  const ConnectionOutcome out = Decide(bytes, o);
  if (out.statuses.empty()) return -1;
  if (out.statuses.front() >= 400) {
    EXPECT_TRUE(out.closed) << bytes.substr(0, 200);
  }
  return out.statuses.front();
}

TEST(RequestReaderTest, ServesPlainAndChunkedBodies) {
  RequestReader r{ServerOptions{}};
  const std::string bytes = Chunked("2\r\n{}\r\n0\r\nX-T: 1\r\n\r\n");
  size_t used = 0;
  ASSERT_EQ(r.Feed(bytes, &used), RequestReader::Progress::kHead);
  const std::string rest = bytes.substr(used);
  ASSERT_EQ(r.Feed(rest, &used), RequestReader::Progress::kDone);
  EXPECT_EQ(used, rest.size());
  const Request req = r.TakeRequest();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/generate");
  EXPECT_EQ(req.body, "{}");
  EXPECT_EQ(req.Header("x-t"), "");  // trailers are dropped, never merged into the headers
  EXPECT_EQ(req.Header("transfer-encoding"), "chunked");
}

TEST(RequestReaderTest, OversizedTrailersAreRefusedNotThrown) {
  // The original crash: a trailer value of 65 534 bytes made Beast's fields throw
  // std::length_error out of the I/O thread (SIGABRT).
  for (size_t n : {65533u, 65534u, 70000u, 1u << 20}) {
    EXPECT_EQ(Status(Chunked("2\r\n{}\r\n0\r\nX: " + std::string(n, 'a') + "\r\n\r\n")), 400) << n;
    EXPECT_EQ(Status(Chunked("0\r\n" + std::string(n, 'N') + ": v\r\n\r\n")), 400) << n;
  }
  // The limit itself: 16 KiB of trailer section.
  const std::string name = "X: ";
  const std::string at_limit(kMaxTrailerBytes - name.size() - 2, 'a');
  EXPECT_EQ(Status(Chunked("0\r\n" + name + at_limit + "\r\n\r\n")), 0);
  EXPECT_EQ(Status(Chunked("0\r\n" + name + at_limit + "a\r\n\r\n")), 400);
  std::string many;
  for (size_t i = 0; i <= kMaxTrailerFields; ++i) many += FieldLine("T", i);
  EXPECT_EQ(Status(Chunked("0\r\n" + many + "\r\n")), 400);
}

TEST(RequestReaderTest, MalformedTrailersAreRefused) {
  for (const std::string& trailer : std::vector<std::string>{
           std::string("X: a\0b\r\n", 8), std::string("X: a\rb\r\n"), std::string("X: a\r\n b\r\n"),
           std::string("X : a\r\n"), std::string(": a\r\n"), std::string("X: \x01\r\n"),
           std::string("novalue\r\n"), std::string("Content-Length: 5\r\n")}) {
    EXPECT_EQ(Status(Chunked("2\r\n{}\r\n0\r\n" + trailer + "\r\n")), 400) << trailer;
  }
  // A broken chunk framing answers axum's body error.
  RequestReader r{ServerOptions{}};
  const std::string bytes = Chunked("2\r\n{}XX0\r\n\r\n");
  size_t used = 0;
  ASSERT_EQ(r.Feed(bytes, &used), RequestReader::Progress::kHead);
  ASSERT_EQ(r.Feed(bytes.substr(used), &used), RequestReader::Progress::kFailed);
  EXPECT_EQ(r.failure().status, 400);
  EXPECT_EQ(r.failure().body,
            "Failed to buffer the request body: error reading a body from connection");
}

TEST(RequestReaderTest, AnOpenTrailerOrChunkLineIsNotBufferedWithoutBound) {
  // The bytes end before the trailer does: past the pending limit the body is refused at once.
  const ConnectionOutcome open = Decide(Chunked("0\r\nX: " + std::string(40000, 'a')));
  ASSERT_EQ(open.statuses.size(), 1u);
  EXPECT_EQ(open.statuses[0], 400);
  const ConnectionOutcome ext = Decide(Chunked("2;e=" + std::string(40000, 'a')));
  ASSERT_EQ(ext.statuses.size(), 1u);
  EXPECT_EQ(ext.statuses[0], 400);
  // Extensions add up over the chunks.
  std::string chunks;
  for (int i = 0; i < 40; ++i) chunks += "1;e=" + std::string(500, 'a') + "\r\nx\r\n";
  EXPECT_EQ(Status(Chunked(chunks + "0\r\n\r\n")), 400);
  EXPECT_EQ(Status(Chunked("2;a=b;c=\"d\"\r\n{}\r\n0\r\n\r\n")), 0);
}

TEST(RequestReaderTest, TransferEncodingMustEndInOneChunked) {
  const std::string next = "GET /info HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& te : std::vector<std::string>{
           "gzip", "deflate", "identity", "chunked, gzip", "xchunked", "chunked, chunked", "",
           "chunked\r\nTransfer-Encoding: chunked", "chunkedx", "chunked;q=1"}) {
    const ConnectionOutcome out =
        Decide("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te + "\r\n\r\n" + next);
    ASSERT_EQ(out.statuses.size(), 1u) << te;  // never two answers: nothing is smuggled
    EXPECT_EQ(out.statuses[0], 400) << te;
    EXPECT_TRUE(out.closed);
  }
  EXPECT_EQ(Status("POST /generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n" +
                   kJson + "\r\n0\r\n\r\n"),
            501);
  EXPECT_EQ(Status("POST /generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                   "Transfer-Encoding: chunked\r\n" +
                   kJson + "\r\n0\r\n\r\n"),
            501);
  EXPECT_EQ(Status("POST /generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n" + kJson +
                   "\r\n2\r\n{}\r\n0\r\n\r\n"),
            0);
  // HTTP/1.0 cannot carry Transfer-Encoding (§6.1).
  EXPECT_EQ(Status("POST /generate HTTP/1.0\r\nTransfer-Encoding: chunked\r\n" + kJson +
                   "\r\n2\r\n{}\r\n0\r\n\r\n"),
            400);
  // Whitespace between the name and the colon (§5.1).
  EXPECT_EQ(Status("POST /generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n" + kJson +
                   "\r\n0\r\n\r\n"),
            400);
}

TEST(RequestReaderTest, ContentLengthIsOneFieldOfDigits) {
  auto with_length = [](const std::string& cl_lines) {
    return "POST /generate HTTP/1.1\r\nHost: x\r\n" + kJson + cl_lines + "\r\n{}";
  };
  EXPECT_EQ(Status(with_length("Content-Length: 2\r\n")), 0);
  for (const std::string& lines : std::vector<std::string>{
           "Content-Length: 2\r\nContent-Length: 2\r\n",
           "Content-Length: 2\r\nContent-Length: 3\r\n", "Content-Length: 2, 2\r\n",
           "Content-Length: -1\r\n", "Content-Length: +2\r\n", "Content-Length: 2 2\r\n",
           "Content-Length: 0x2\r\n", "Content-Length: 1e3\r\n",
           "Content-Length: 99999999999999999999999\r\n", "Content-Length:\r\n",
           "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: chunked\r\nContent-Length: 2\r\n"}) {
    EXPECT_EQ(Status(with_length(lines)), 400) << lines;
  }
  EXPECT_EQ(Status(with_length("Content-Length: 2000001\r\n")), 413);
}

TEST(RequestReaderTest, HeadBytesAreChecked) {
  for (const std::string& lines : std::vector<std::string>{
           std::string("X: a\0b\r\n", 8), std::string("X: a\rb\r\n"), std::string("X: a\r\n b\r\n"),
           std::string("X: \x01\r\n"), std::string("X Y: 1\r\n"), std::string("X: \x7f\r\n"),
           std::string("Host: y\r\n")}) {
    EXPECT_EQ(Status(WithHeader(lines)), 400) << lines;
  }
  EXPECT_EQ(Status("GET /health HTTP/1.1\nHost: x\n\n"), 400);
  EXPECT_EQ(Status(WithHeader("X: tab\there, obs-text \xc3\xa9\r\n")), 0);
  EXPECT_FALSE(HeadBytesAreValid("GET / HTTP/1.1\r\nX: 1\r\n"));  // no blank line
  EXPECT_TRUE(HeadBytesAreValid("\r\nGET / HTTP/1.1\r\nX: 1\r\n\r\n"));
}

TEST(RequestReaderTest, HeaderCountAndSizeLimits) {
  std::string fields;
  for (size_t i = 0; i + 1 < kMaxHeaderFields; ++i) fields += FieldLine("F", i);
  EXPECT_EQ(Status(WithHeader(fields)), 0);  // Host + 99 = 100 fields
  EXPECT_EQ(Status(WithHeader(fields + "Last: 1\r\n")), 431);
  EXPECT_EQ(Status(WithHeader("X: " + std::string(70000, 'a') + "\r\n")), 431);
}

TEST(RequestReaderTest, VersionsOtherThanHttp1AreRefused) {
  EXPECT_EQ(Status("GET /health HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
  EXPECT_EQ(Status("GET /health HTTP/1.2\r\nHost: x\r\n\r\n"), 505);
  EXPECT_EQ(Status("GET /health HTTP/1.0\r\n\r\n"), 0);
  EXPECT_EQ(Status("GET /health HTTX/1.1\r\n\r\n"), 400);
}

TEST(DecideConnectionTest, PipelinedRequestsAndTheEndAfterAnError) {
  const std::string get = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string post =
      "POST /generate HTTP/1.1\r\nHost: x\r\n" + kJson + "Content-Length: 7\r\n\r\n{\"n\":1}";
  ConnectionOutcome out = Decide(post + get + Chunked("2\r\n{}\r\n0\r\n\r\n") + get);
  EXPECT_EQ(out.statuses, (std::vector<int>{0, 0, 0, 0}));
  EXPECT_FALSE(out.closed);
  EXPECT_FALSE(out.incomplete);
  // After an error nothing more is read.
  out = Decide(get + "GET /health HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" + get + get);
  EXPECT_EQ(out.statuses, (std::vector<int>{0, 400}));
  EXPECT_TRUE(out.closed);
  // `Connection: close` ends the connection too.
  out = Decide("GET /health HTTP/1.1\r\nConnection: close\r\n\r\n" + get);
  EXPECT_EQ(out.statuses, (std::vector<int>{0}));
  EXPECT_TRUE(out.closed);
  out = Decide(post.substr(0, post.size() - 3));
  EXPECT_TRUE(out.incomplete);
  EXPECT_TRUE(out.statuses.empty());
}

TEST(DecideConnectionTest, AnyDeliveryGivesTheSameAnswers) {
  const std::string stream =
      "GET /health HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n" +
      Chunked("2;e=1\r\n{}\r\n1\r\n \r\n0\r\nX-T: 1\r\n\r\n") +
      "POST /generate HTTP/1.1\r\nHost: x\r\n" + kJson + "Content-Length: 2\r\n\r\n{}" +
      "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /health HTTP/1.1\r\nX: a\r\n b\r\n\r\n";
  const ConnectionOutcome whole = Decide(stream);
  EXPECT_EQ(whole.statuses, (std::vector<int>{0, 0, 0, 404, 400}));
  for (size_t step : {1u, 2u, 3u, 7u, 64u}) {
    std::vector<size_t> cuts;
    for (size_t c = step; c < stream.size(); c += step) cuts.push_back(c);
    const ConnectionOutcome pieces =
        DecideConnection(stream, cuts, ReaderRoutes(), ServerOptions{});
    EXPECT_EQ(pieces.statuses, whole.statuses) << "pieces of " << step;
    EXPECT_EQ(pieces.closed, whole.closed);
  }
}

}  // namespace
}  // namespace sg::http
