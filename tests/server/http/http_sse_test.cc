// Server-Sent Events over real loopback sockets: exact bytes and chunk framing, events leaving one
// by one, keep-alive comments, disconnects, the slow-reader policy, many streams on few threads.
#include <gtest/gtest.h>

#include <array>
#include <future>
#include <thread>
#include <vector>

#include "server/http/http_server.h"
#include "test_client.h"

namespace sg::http {
namespace {

using testing::Client;
using testing::Get;
using testing::Mailbox;
using testing::Post;
using testing::StatusOf;

const char kHead[] =
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    "x-accel-buffering: no\r\ntransfer-encoding: chunked\r\nx-compute-type: cpu\r\n"
    "access-control-allow-origin: *\r\n\r\n";

class SseTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}) {
    server_ = testing::LoopbackServer(o);
    ASSERT_NE(server_, nullptr);
    // Opens a stream and hands it to the test, which sends the events.
    server_->Route("POST", "/stream", {.json_body = true},
                   [this](Request&&, std::shared_ptr<ResponseWriter> w) {
                     auto sse = w->StartSse({{"x-compute-type", "cpu"}});
                     w->OnDisconnect([this] { disconnects_.Put(1); });
                     streams_.Put(sse);
                   });
    server_->Route("POST", "/twice", {.json_body = true},
                   [this](Request&&, std::shared_ptr<ResponseWriter> w) {
                     auto first = w->StartSse({});
                     w->Respond({500, "", {}, ""});  // ignored: the stream answered
                     auto second = w->StartSse({});  // ignored: comes back closed
                     streams_.Put(first);
                     streams_.Put(second);
                   });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  std::shared_ptr<SseStream> TakeStream() {
    auto s = streams_.Take();
    EXPECT_TRUE(s.has_value());
    return s ? *s : nullptr;
  }

  std::unique_ptr<Server> server_;
  Mailbox<std::shared_ptr<SseStream>> streams_;
  Mailbox<int> disconnects_;
};

std::string Event(const std::string& payload) {
  const std::string e = "data: " + payload + "\n\n";
  char size[16];
  std::snprintf(size, sizeof(size), "%zx\r\n", e.size());
  return size + e + "\r\n";
}

TEST_F(SseTest, EventsLeaveOneByOneWithExactFraming) {
  Start();
  Client c(server_->port());
  c.Send(Post("/stream", "{}"));
  std::shared_ptr<SseStream> sse = TakeStream();
  ASSERT_TRUE(sse);
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), kHead);
  // A producer thread (not an I/O thread) sends each event only once the test has read the
  // previous one off the socket.
  std::array<std::promise<void>, 3> go;
  std::thread producer([&] {
    for (int i = 0; i < 3; ++i) {
      go[i].get_future().wait();
      EXPECT_TRUE(sse->Send("{\"index\":" + std::to_string(i + 1) + "}"));
    }
    sse->Close();
  });
  for (int i = 0; i < 3; ++i) {
    go[i].set_value();
    const std::string expected = Event("{\"index\":" + std::to_string(i + 1) + "}");
    EXPECT_EQ(c.ReadUntil(expected), expected);
  }
  EXPECT_EQ(Event("{\"index\":1}"), "13\r\ndata: {\"index\":1}\n\n\r\n");  // 0x13 = 19 bytes
  EXPECT_EQ(c.ReadUntil("0\r\n\r\n"), "0\r\n\r\n");
  producer.join();
  EXPECT_TRUE(sse->closed());
  EXPECT_FALSE(sse->Send("{}"));
  // The connection is reused after the stream (keep-alive).
  c.Send(Get("/health"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(SseTest, KeepAliveCommentAfterSilence) {
  ServerOptions o;
  o.keep_alive = std::chrono::milliseconds(50);
  Start(o);
  Client c(server_->port());
  c.Send(Post("/stream", "{}"));
  std::shared_ptr<SseStream> sse = TakeStream();
  ASSERT_TRUE(sse);
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), kHead);
  EXPECT_EQ(c.ReadUntil("\r\n:\n\n\r\n"), "3\r\n:\n\n\r\n");
  ASSERT_TRUE(sse->Send("{}"));
  // Comments may have come between; the event arrives intact after them.
  const std::string got = c.ReadUntil(Event("{}"));
  EXPECT_TRUE(got.ends_with(Event("{}"))) << got;
  EXPECT_EQ(c.ReadUntil("\r\n:\n\n\r\n").find("data"), std::string::npos);
  sse->Close();
  EXPECT_TRUE(c.ReadUntil("0\r\n\r\n").ends_with("0\r\n\r\n"));
}

TEST_F(SseTest, DisconnectClosesTheStream) {
  Start();
  std::shared_ptr<SseStream> sse;
  {
    Client c(server_->port());
    c.Send(Post("/stream", "{}"));
    sse = TakeStream();
    ASSERT_TRUE(sse);
    EXPECT_EQ(c.ReadUntil("\r\n\r\n"), kHead);
    ASSERT_TRUE(sse->Send("{}"));
  }  // the client leaves mid-stream
  EXPECT_TRUE(disconnects_.Take().has_value());
  EXPECT_TRUE(sse->closed());
  EXPECT_FALSE(sse->Send("{}"));
  sse->Close();  // harmless
}

TEST_F(SseTest, ConnectionCloseAndHttp10EndWithTheStream) {
  Start();
  {
    Client c(server_->port());
    c.Send(Post("/stream", "{}", "Content-Type: application/json\r\nConnection: close\r\n"));
    std::shared_ptr<SseStream> sse = TakeStream();
    ASSERT_TRUE(sse);
    ASSERT_TRUE(sse->Send("{}"));
    sse->Close();
    const std::string r = c.ReadToEof();
    EXPECT_TRUE(r.ends_with(Event("{}") + "0\r\n\r\n")) << r;
  }
  {
    Client c(server_->port());  // curl -0: no chunking, the close ends the body
    c.Send(
        "POST /stream HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    std::shared_ptr<SseStream> sse = TakeStream();
    ASSERT_TRUE(sse);
    ASSERT_TRUE(sse->Send("{\"a\":1}"));
    sse->Close();
    EXPECT_EQ(c.ReadToEof(),
              "HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
              "x-accel-buffering: no\r\nconnection: close\r\nx-compute-type: cpu\r\n"
              "access-control-allow-origin: *\r\n\r\ndata: {\"a\":1}\n\n");
  }
}

TEST_F(SseTest, OnlyTheFirstAnswerCounts) {
  Start();
  Client c(server_->port());
  c.Send(Post("/twice", "{}"));
  std::shared_ptr<SseStream> first = TakeStream();
  std::shared_ptr<SseStream> second = TakeStream();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->Send("1"));
  EXPECT_TRUE(c.ReadUntil(Event("1")).ends_with(Event("1")));
  // The strand ran the ignored StartSse before the event it wrote afterwards.
  EXPECT_TRUE(second->closed());
  EXPECT_FALSE(second->Send("2"));
  first->Close();
  EXPECT_TRUE(c.ReadUntil("0\r\n\r\n").ends_with("0\r\n\r\n"));
}

TEST_F(SseTest, SlowReaderIsDisconnectedAndAReaderThatKeepsUpIsNot) {
  ServerOptions o;
  o.max_stream_pending_bytes = 256 * 1024;
  Start(o);
  Client c(server_->port(), /*rcvbuf=*/4096);
  c.Send(Post("/stream", "{}"));
  std::shared_ptr<SseStream> sse = TakeStream();
  ASSERT_TRUE(sse);
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), kHead);
  const std::string payload(1024, 'x');
  const std::string event = Event(payload);

  // Phase 1: the client reads everything while 2 MiB flow (8x the limit). The producer only
  // outruns the socket by half the limit, so the stream must survive.
  constexpr int kHealthy = 2048;
  std::thread reader([&] {
    for (int i = 0; i < kHealthy; ++i) ASSERT_EQ(c.ReadUntil(event), event) << i;
  });
  for (int i = 0; i < kHealthy; ++i) {
    while (sse->pending_bytes() > o.max_stream_pending_bytes / 2) std::this_thread::yield();
    ASSERT_TRUE(sse->Send(payload)) << i;
  }
  reader.join();
  EXPECT_FALSE(sse->closed());

  // Phase 2: the client reads nothing more. Once the kernel buffers are full the queue grows, and
  // past the limit the stream is dropped: Send fails, OnDisconnect runs, memory stays bounded.
  size_t sent = 0;
  size_t max_pending = 0;
  while (sent < 200000 && sse->Send(payload)) {
    ++sent;
    max_pending = std::max(max_pending, sse->pending_bytes());
  }
  EXPECT_LT(sent, 200000u) << "the stream was never dropped";
  EXPECT_LE(max_pending, o.max_stream_pending_bytes + event.size());
  EXPECT_TRUE(disconnects_.Take().has_value());
  EXPECT_TRUE(sse->closed());
  EXPECT_TRUE(c.ServerClosed());
}

TEST_F(SseTest, ManyConcurrentStreamsOnTwoIoThreads) {
  ServerOptions o;
  o.io_threads = 2;
  Start(o);
  constexpr int kStreams = 200;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::shared_ptr<SseStream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    clients.push_back(std::make_unique<Client>(server_->port()));
    clients.back()->Send(Post("/stream", "{}"));
  }
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(TakeStream());
    ASSERT_TRUE(streams.back());
  }
  EXPECT_EQ(server_->open_connections(), kStreams);
  // Four producer threads write to all streams at once.
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&, t] {
      for (int i = t; i < kStreams; i += 4) {
        EXPECT_TRUE(streams[i]->Send("{\"a\":1}"));
        EXPECT_TRUE(streams[i]->Send("{\"b\":2}"));
        streams[i]->Close();
      }
    });
  }
  for (auto& p : producers) p.join();
  const std::string body = Event("{\"a\":1}") + Event("{\"b\":2}") + "0\r\n\r\n";
  for (auto& c : clients) {
    EXPECT_EQ(c->ReadUntil("\r\n\r\n"), kHead);
    EXPECT_EQ(c->ReadUntil("0\r\n\r\n"), body);
  }
}

TEST_F(SseTest, StopClosesOpenStreams) {
  Start();
  Client c(server_->port());
  c.Send(Post("/stream", "{}"));
  std::shared_ptr<SseStream> sse = TakeStream();
  ASSERT_TRUE(sse);
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), kHead);
  server_->Stop();
  EXPECT_TRUE(disconnects_.Take().has_value());
  EXPECT_TRUE(sse->closed());
  EXPECT_FALSE(sse->Send("{}"));
  EXPECT_TRUE(c.ServerClosed());
  server_.reset();
  sse->Close();  // the stream outlives the server harmlessly
}

}  // namespace
}  // namespace sg::http
