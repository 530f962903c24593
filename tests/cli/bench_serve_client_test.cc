// The serving benchmark's HTTP client against a scripted loopback server: a chunked SSE body
// written in pieces with pauses (TTFT, ITL and e2e measured from the pieces' timing, events split
// across chunks), a 429 with Retry-After, an in-band overloaded error, a stream cut short, and
// the per-request timeout. One io_context on the test thread runs the client.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli/bench_serve/stream_request.h"
#include "cli/bench_serve/target.h"

namespace sg::benchserve::client_test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// One step of a scripted response: bytes to write, then a pause.
struct Step {
  std::string bytes;
  std::chrono::milliseconds pause{0};
};

// Accepts one connection, reads the request head and body, plays the script, closes.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<Step> script)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), script_(std::move(script)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() { thread_.join(); }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  const std::string& request() const { return request_; }  // valid after the client finished

 private:
  void Serve() {
    asio::ip::tcp::socket s(io_);
    acceptor_.accept(s);
    boost::system::error_code ec;
    std::string buf;
    char tmp[4096];
    size_t body_at = std::string::npos, length = 0;
    while (body_at == std::string::npos || buf.size() < body_at + length) {
      const size_t n = s.read_some(asio::buffer(tmp), ec);
      if (ec) return;
      buf.append(tmp, n);
      if (body_at == std::string::npos && (body_at = buf.find("\r\n\r\n")) != std::string::npos) {
        body_at += 4;
        const size_t cl = buf.find("Content-Length: ");
        length = cl == std::string::npos ? 0 : std::stoul(buf.substr(cl + 16));
      }
    }
    request_ = buf;
    for (const Step& step : script_) {
      asio::write(s, asio::buffer(step.bytes), ec);
      if (ec) return;
      std::this_thread::sleep_for(step.pause);
    }
    s.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<Step> script_;
  std::string request_;
  std::thread thread_;
};

std::string Chunk(const std::string& data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

const char* kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

RequestResult RunRequest(const ScriptedServer& server, Endpoint endpoint,
                         std::chrono::milliseconds timeout = 5000ms) {
  auto url = ParseUrl("http://127.0.0.1:" + server.port());
  EXPECT_TRUE(url.ok());
  auto target = ResolveTarget(*url);
  EXPECT_TRUE(target.ok());
  asio::io_context io;
  RequestResult out;
  bool called = false;
  StreamRequestSpec spec{endpoint, "{\"inputs\":\"x\"}", timeout, Clock::now(), 3};
  StartStreamRequest(io, *target, spec, [&](RequestResult r) {
    EXPECT_FALSE(called);
    called = true;
    out = std::move(r);
  });
  io.run();
  EXPECT_TRUE(called);
  return out;
}

std::string Token(int i) {
  return "data: {\"index\":" + std::to_string(i) +
         ",\"token\":{\"id\":5,\"text\":\"a\",\"logprob\":0,\"special\":false},"
         "\"generated_text\":null,\"details\":null}\n\n";
}
const std::string kFinal =
    "data: {\"index\":3,\"token\":{\"id\":2,\"text\":\"b\",\"logprob\":0,\"special\":false},"
    "\"generated_text\":\"aab\",\"details\":{\"finish_reason\":\"length\",\"generated_tokens\":3,"
    "\"seed\":null,\"input_length\":4}}\n\n";

TEST(BenchServeClient, NativeStreamTimedPerEvent) {
  // The second event is split across two chunks; pauses of 60 ms before tokens 1, 2 and 3.
  const std::string t2 = Token(2);
  ScriptedServer server({{kSseHead, 60ms},
                         {Chunk(Token(1)), 60ms},
                         {Chunk(t2.substr(0, 20)), 0ms},
                         {Chunk(t2.substr(20)), 60ms},
                         {Chunk(":\n\n" + kFinal), 0ms},
                         {"0\r\n\r\n", 0ms}});
  const RequestResult r = RunRequest(server, Endpoint::kGenerateStream);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.token_events, 3);
  EXPECT_EQ(r.output_tokens, 3);
  EXPECT_EQ(r.prompt_tokens, 4);
  EXPECT_EQ(r.prompt_index, 3u);
  EXPECT_GE(r.ttft_s, 0.055);
  ASSERT_EQ(r.itl_s.size(), 2u);
  EXPECT_GE(r.itl_s[0], 0.055);
  EXPECT_GE(r.itl_s[1], 0.055);
  EXPECT_LE(r.ttft_s, r.e2e_s);
  EXPECT_GE(r.e2e_s, r.ttft_s + r.itl_s[0] + r.itl_s[1] - 1e-9);
  EXPECT_NE(server.request().find("POST /generate_stream HTTP/1.1"), std::string::npos);
  EXPECT_NE(server.request().find("{\"inputs\":\"x\"}"), std::string::npos);
}

TEST(BenchServeClient, OpenAiStreamUsesUsageCount) {
  const std::string chunk =
      "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},"
      "\"finish_reason\":null}],\"usage\":null}\r\n\r\n";
  const std::string usage =
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":5,"
      "\"total_tokens\":12}}\r\n\r\n";
  ScriptedServer server({{kSseHead, 0ms},
                         {Chunk(chunk + chunk), 20ms},
                         {Chunk(usage + "data: [DONE]\r\n\r\n"), 0ms},
                         {"0\r\n\r\n", 0ms}});
  const RequestResult r = RunRequest(server, Endpoint::kChat);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.token_events, 2);
  EXPECT_EQ(r.output_tokens, 5);  // the server's count beats the events seen
  EXPECT_EQ(r.prompt_tokens, 7);
  EXPECT_NE(server.request().find("POST /v1/chat/completions"), std::string::npos);
}

TEST(BenchServeClient, Http429IsOverloadedWithRetryAfter) {
  ScriptedServer server(
      {{"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: "
        "19\r\n\r\n{\"error\":\"too busy\"}",
        0ms}});
  const RequestResult r = RunRequest(server, Endpoint::kCompletions);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.overloaded);
  EXPECT_EQ(r.http_status, 429);
  EXPECT_EQ(r.retry_after_s, 3.0);
  EXPECT_NE(r.error.find("429"), std::string::npos) << r.error;
}

TEST(BenchServeClient, InBandOverloadedAndCutStreams) {
  {
    ScriptedServer server(
        {{kSseHead, 0ms},
         {Chunk("data: {\"error\":\"Model is overloaded\",\"error_type\":\"overloaded\"}\n\n"),
          0ms},
         {"0\r\n\r\n", 0ms}});
    const RequestResult r = RunRequest(server, Endpoint::kGenerateStream);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(r.overloaded);
    EXPECT_EQ(r.http_status, 200);
  }
  {
    // Two tokens, then the connection closes without the final event or the last chunk.
    ScriptedServer server({{kSseHead, 0ms}, {Chunk(Token(1) + Token(2)), 0ms}});
    const RequestResult r = RunRequest(server, Endpoint::kGenerateStream);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.overloaded);
    EXPECT_EQ(r.token_events, 2);
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(BenchServeClient, TimeoutIsAnError) {
  ScriptedServer server({{kSseHead, 0ms}, {Chunk(Token(1)), 400ms}, {"0\r\n\r\n", 0ms}});
  const RequestResult r = RunRequest(server, Endpoint::kGenerateStream, 150ms);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_LT(r.e2e_s, 0.39);
}

TEST(BenchServeClient, ConnectionRefusedIsClear) {
  asio::io_context io;
  asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const std::string port = std::to_string(a.local_endpoint().port());
  a.close();  // nothing listens there now
  auto target = ResolveTarget(*ParseUrl("http://127.0.0.1:" + port));
  ASSERT_TRUE(target.ok());
  const Status s = CheckReachable(*target, 2000ms);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("refused"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace sg::benchserve::client_test
