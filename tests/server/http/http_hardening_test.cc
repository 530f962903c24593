// The HTTP server under abuse, over real loopback sockets: the trailer that used to abort the
// process, request smuggling through Transfer-Encoding, slow and silent clients (each timeout),
// clients that stop reading, and a graceful shutdown that flushes what handlers answered.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server/http/http_server.h"
#include "test_client.h"

namespace sg::http {
namespace {

using namespace std::chrono_literals;
using testing::Client;
using testing::Get;
using testing::Mailbox;
using testing::Post;
using testing::StatusOf;

const std::string kBare400 =
    "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n"
    "access-control-allow-origin: *\r\n\r\n";
const std::string kBodyError =
    "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 71\r\n"
    "connection: close\r\naccess-control-allow-origin: *\r\n\r\n"
    "Failed to buffer the request body: error reading a body from connection";
const std::string k408 =
    "HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n"
    "access-control-allow-origin: *\r\n\r\n";

class HardeningTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}) {
    server_ = testing::LoopbackServer(o);
    ASSERT_NE(server_, nullptr);
    server_->Route("GET", "/big", {}, [](Request&&, std::shared_ptr<ResponseWriter> w) {
      w->Respond({200, "text/plain", {}, std::string(8 << 20, 'x')});
    });
    server_->Route("POST", "/echo", {.json_body = true},
                   [](Request&& r, std::shared_ptr<ResponseWriter> w) {
                     w->Respond({200, "application/json", {}, r.body});
                   });
    server_->Route("POST", "/slow", {.json_body = true},
                   [this](Request&&, std::shared_ptr<ResponseWriter> w) {
                     w->OnDisconnect([this] { disconnects_.Put(1); });
                     writers_.Put(w);
                   });
    server_->Route("POST", "/stream", {.json_body = true},
                   [this](Request&&, std::shared_ptr<ResponseWriter> w) {
                     w->OnDisconnect([this] { disconnects_.Put(1); });
                     streams_.Put(w->StartSse({}));
                   });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  void ExpectStillServing() {
    Client c(server_->port());
    c.Send(Get("/health"));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  }

  std::unique_ptr<Server> server_;
  Mailbox<std::shared_ptr<ResponseWriter>> writers_;
  Mailbox<std::shared_ptr<SseStream>> streams_;
  Mailbox<int> disconnects_;
};

// Options with the idle, header and body timeouts all set to `t`.
ServerOptions ReadTimeouts(std::chrono::milliseconds t) {
  ServerOptions o;
  o.idle_timeout = t;
  o.header_timeout = t;
  o.body_timeout = t;
  return o;
}

std::string ChunkedEcho(const std::string& after_body) {
  return "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
         "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n" +
         after_body;
}

TEST_F(HardeningTest, AHugeTrailerIsABadRequestNotACrash) {
  Start();
  for (size_t n : {65533u, 65534u, 200000u}) {
    Client c(server_->port());
    c.Send(ChunkedEcho("X: " + std::string(n, 'a') + "\r\n\r\n"));
    EXPECT_EQ(c.ReadToEof(), kBodyError) << n;
  }
  {
    Client c(server_->port());
    c.Send(ChunkedEcho("X-T: 1\r\n\r\n"));  // a small trailer is fine
    EXPECT_TRUE(c.ReadResponse().ends_with("\r\n\r\n{}"));
  }
  ExpectStillServing();
}

TEST_F(HardeningTest, ATransferEncodingThatIsNotChunkedSmugglesNothing) {
  Start();
  for (const char* te : {"gzip", "identity", "chunked, gzip", "xchunked"}) {
    Client c(server_->port());
    c.Send(std::string("GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + te +
           "\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(c.ReadToEof(), kBare400) << te;  // one answer, then the connection ends
  }
  ExpectStillServing();
}

TEST_F(HardeningTest, SilentAndSlowClientsTimeOut) {
  Start(ReadTimeouts(300ms));
  {
    Client idle(server_->port());  // never sends: closed without a byte
    EXPECT_EQ(idle.ReadToEof(), "");
  }
  {
    Client kept(server_->port());  // idle after a served request: the same
    kept.Send(Get("/health"));
    EXPECT_EQ(StatusOf(kept.ReadResponse()), 200);
    EXPECT_EQ(kept.ReadToEof(), "");
  }
  {
    Client head(server_->port());  // a head that never ends: 408
    head.Send("GET /health HTTP/1.1\r\nHo");
    EXPECT_EQ(head.ReadToEof(), k408);
  }
  {
    Client body(server_->port());  // a body that stops: 408
    body.Send(
        "POST /echo HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: "
        "10\r\n\r\n{\"a\"");
    EXPECT_EQ(body.ReadToEof(), k408);
  }
  {
    // A body that keeps moving, each pause within the body timeout, is served.
    Client trickle(server_->port());
    const std::string body = "{\"abcdef\":1}";
    trickle.Send("POST /echo HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " +
                 std::to_string(body.size()) + "\r\n\r\n");
    for (char ch : body) {
      std::this_thread::sleep_for(100ms);
      trickle.Send(std::string(1, ch));
    }
    EXPECT_TRUE(trickle.ReadResponse().ends_with(body));
  }
}

TEST_F(HardeningTest, APendingResponseHasNoReadDeadline) {
  Start(ReadTimeouts(200ms));
  Client c(server_->port());
  c.Send(Post("/slow", "{}"));
  auto w = writers_.Take();
  ASSERT_TRUE(w.has_value());
  std::this_thread::sleep_for(600ms);  // generation takes its time: not a slow client
  (*w)->Respond({200, "", {}, "done"});
  EXPECT_TRUE(c.ReadResponse().ends_with("done"));
}

TEST_F(HardeningTest, AClientThatStopsReadingIsCutOffAfterTheSendTimeout) {
  ServerOptions o;
  o.send_timeout = 300ms;
  Start(o);
  Client c(server_->port(), /*rcvbuf=*/4096);
  c.Send(Get("/big"));  // 8 MiB that the client never reads
  std::this_thread::sleep_for(1000ms);
  // The connection was closed by the server: after what the buffers held, EOF or a reset.
  EXPECT_TRUE(c.ServerClosed());
  EXPECT_EQ(server_->open_connections(), 0);
  ExpectStillServing();
}

TEST_F(HardeningTest, ShutdownFlushesAnsweredRequestsAndStreamsThenCloses) {
  Start();
  Client idle(server_->port());
  Client kept(server_->port());
  kept.Send(Get("/health"));
  EXPECT_EQ(StatusOf(kept.ReadResponse()), 200);
  Client pending(server_->port());
  pending.Send(Post("/slow", "{}"));
  auto writer = writers_.Take();
  ASSERT_TRUE(writer.has_value());
  Client streaming(server_->port());
  streaming.Send(Post("/stream", "{}"));
  auto stream = streams_.Take();
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(StatusOf(streaming.ReadUntil("\r\n\r\n")), 200);

  server_->BeginShutdown();
  EXPECT_EQ(idle.ReadToEof(), "");  // idle connections close at once, without a byte
  EXPECT_EQ(kept.ReadToEof(), "");
  // The engine ends what is left: an answer, many events and the end of a stream, queued just
  // before the server is told to finish.
  (*writer)->Respond({500, "application/json", {}, "{\"error\":\"x\"}"});
  for (int i = 0; i < 200; ++i) (*stream)->Send("{\"token\":" + std::to_string(i) + "}");
  (*stream)->Close();
  server_->Shutdown(std::chrono::steady_clock::now() + 5s);

  const std::string answer = pending.ReadToEof();
  EXPECT_EQ(StatusOf(answer), 500);
  EXPECT_NE(answer.find("connection: close\r\n"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("{\"error\":\"x\"}"));
  const std::string events = streaming.ReadToEof();
  EXPECT_NE(events.find("{\"token\":199}"), std::string::npos);
  EXPECT_TRUE(events.ends_with("\r\n0\r\n\r\n")) << events.substr(events.size() - 40);
  EXPECT_EQ(server_->open_connections(), 0);
}

TEST_F(HardeningTest, ShutdownCutsOffAClientThatDoesNotReadAtTheDeadline) {
  Start();
  Client c(server_->port(), /*rcvbuf=*/4096);
  c.Send(Get("/big"));
  std::this_thread::sleep_for(100ms);
  const auto t0 = std::chrono::steady_clock::now();
  server_->Shutdown(t0 + 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_EQ(server_->open_connections(), 0);
}

}  // namespace
}  // namespace sg::http
