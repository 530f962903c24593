// The HTTP front end over real loopback sockets: routing, framework errors, auth, CORS,
// keep-alive, pipelining, disconnect detection for pending (non-streamed) responses, shutdown.
#include "server/http/http_server.h"

#include <gtest/gtest.h>

#include <future>
#include <stdexcept>
#include <thread>

#include "test_client.h"

namespace sg::http {
namespace {

using testing::Client;
using testing::Get;
using testing::HasHeader;
using testing::Mailbox;
using testing::Post;
using testing::StatusOf;

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(ServerOptions o = {}) {
    server_ = testing::LoopbackServer(o);
    ASSERT_NE(server_, nullptr);
    server_->Route(
        "POST", "/echo", {.json_body = true, .protected_ = true},
        [](Request&& r, std::shared_ptr<ResponseWriter> w) {
          w->Respond({200, "application/json", {{"x-path", r.path}, {"x-query", r.query}}, r.body});
        });
    // Answered later by the test, from its own thread.
    server_->Route("POST", "/slow", {.json_body = true},
                   [this](Request&&, std::shared_ptr<ResponseWriter> w) {
                     w->OnDisconnect([this] { disconnects_.Put(1); });
                     pending_.Put(w);
                   });
    server_->Route("GET", "/drop", {}, [](Request&&, std::shared_ptr<ResponseWriter>) {});
    server_->Route("GET", "/throw", {}, [](Request&&, std::shared_ptr<ResponseWriter>) {
      throw std::runtime_error("handler bug");
    });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::unique_ptr<Server> server_;
  Mailbox<std::shared_ptr<ResponseWriter>> pending_;
  Mailbox<int> disconnects_;
};

TEST_F(HttpServerTest, DispatchesGetAndPost) {
  Start();
  Client c(server_->port());
  c.Send(Get("/health"));
  EXPECT_EQ(c.ReadResponse(),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\naccess-control-allow-origin: *\r\n\r\n");
  c.Send(Post("/echo?a=1&b", "{\"a\":1}"));
  EXPECT_EQ(c.ReadResponse(),
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n"
            "x-path: /echo\r\nx-query: a=1&b\r\naccess-control-allow-origin: *\r\n\r\n{\"a\":1}");
}

TEST_F(HttpServerTest, UnknownPathAndWrongMethod) {
  Start();
  Client c(server_->port());
  c.Send(Get("/nope"));
  EXPECT_EQ(
      c.ReadResponse(),
      "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\naccess-control-allow-origin: *\r\n\r\n");
  c.Send(Get("/echo"));
  const std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 405);
  EXPECT_TRUE(HasHeader(r, "allow: POST")) << r;
  EXPECT_TRUE(HasHeader(r, "content-length: 0")) << r;
  c.Send(Post("/health", "{}"));
  EXPECT_TRUE(HasHeader(c.ReadResponse(), "allow: GET,HEAD"));
  // HEAD of a GET route: the headers, no body.
  c.Send("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  c.Send(Get("/health"));  // the connection is still in step
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(HttpServerTest, PayloadLimitFromContentLengthBeforeTheBody) {
  ServerOptions o;
  o.payload_limit = 100;
  Start(o);
  {
    Client c(server_->port());
    c.Send(Post("/echo", std::string(100, 'x')));  // exactly the limit: accepted
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  }
  Client c(server_->port());
  // Only the head is sent: the 413 must come without waiting for the body.
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 101\r\n\r\n");
  const std::string r = c.ReadResponse();
  EXPECT_EQ(r,
            "HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 56\r\nconnection: close\r\naccess-control-allow-origin: *\r\n\r\n"
            "Failed to buffer the request body: length limit exceeded");
  c.Send(std::string(101, 'x'));  // the body arrives late and is discarded
  EXPECT_TRUE(c.ServerClosed());
}

TEST_F(HttpServerTest, PayloadLimitForAGrowingChunkedBody) {
  ServerOptions o;
  o.payload_limit = 100;
  Start(o);
  Client c(server_->port());
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = "3c\r\n" + std::string(60, 'x') + "\r\n";
  c.Send(chunk);
  c.Send(chunk);  // 120 bytes > 100
  const std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 413) << r;
  EXPECT_NE(r.find("\r\n\r\nFailed to buffer the request body: length limit exceeded"),
            std::string::npos);
  EXPECT_TRUE(c.ServerClosed());
  // A chunked body within the limit is accepted.
  Client d(server_->port());
  d.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  const std::string ok = d.ReadResponse();
  EXPECT_EQ(StatusOf(ok), 200);
  EXPECT_TRUE(ok.ends_with("\r\n\r\n{}")) << ok;
}

TEST_F(HttpServerTest, JsonContentTypeIsRequired) {
  Start();
  Client c(server_->port());
  const std::string expected_415 =
      "HTTP/1.1 415 Unsupported Media Type\r\ncontent-type: text/plain; charset=utf-8\r\n"
      "content-length: 54\r\naccess-control-allow-origin: *\r\n\r\n"
      "Expected request with `Content-Type: application/json`";
  c.Send(Post("/echo", "{}", ""));  // curl -d without -H
  EXPECT_EQ(c.ReadResponse(), expected_415);
  c.Send(Post("/echo", "{}", "Content-Type: text/plain\r\n"));
  EXPECT_EQ(c.ReadResponse(), expected_415);
  for (const char* type : {"application/json", "application/json; charset=utf-8",
                           "application/x+json", "APPLICATION/JSON"}) {
    c.Send(Post("/echo", "{}", std::string("Content-Type: ") + type + "\r\n"));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200) << type;
  }
}

TEST_F(HttpServerTest, ApiKeyProtectsOnlyProtectedRoutes) {
  ServerOptions o;
  o.api_key = "SeCrEt";
  Start(o);
  Client c(server_->port());
  c.Send(Post("/echo", "{}"));  // no Authorization
  EXPECT_EQ(c.ReadResponse(),
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\naccess-control-allow-origin: "
            "*\r\n\r\n");
  c.Send(Post("/echo", "{}", "Content-Type: application/json\r\nAuthorization: Bearer wrong\r\n"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 401);
  c.Send(Post("/echo", "{}", "Content-Type: application/json\r\nAuthorization: bearer secret\r\n"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  c.Send(Post("/echo", "{}", "Content-Type: application/json\r\nAuthorization: Bearer SeCrEt\r\n"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  c.Send(Get("/health"));  // never protected
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(HttpServerTest, CorsHeadersAndPreflight) {
  ServerOptions o;
  o.cors_allow_origins = {"http://app.example"};
  Start(o);
  Client c(server_->port());
  c.Send(Get("/health", "Origin: http://app.example\r\n"));
  std::string r = c.ReadResponse();
  EXPECT_TRUE(HasHeader(r, "access-control-allow-origin: http://app.example")) << r;
  EXPECT_TRUE(HasHeader(r, "vary: origin"));
  c.Send(Get("/health", "Origin: http://evil.example\r\n"));
  r = c.ReadResponse();
  EXPECT_EQ(r.find("access-control-allow-origin"), std::string::npos) << r;
  c.Send(
      "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\n"
      "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n"
      "\r\n");
  EXPECT_EQ(c.ReadResponse(),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\naccess-control-allow-methods: GET,POST\r\n"
            "access-control-allow-headers: content-type\r\naccess-control-allow-origin: "
            "http://app.example\r\nvary: origin\r\n\r\n");
}

TEST_F(HttpServerTest, KeepAliveCloseAndHttp10) {
  Start();
  {
    Client c(server_->port());
    c.Send(Get("/health"));
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
    c.Send(Get("/health", "Connection: close\r\n"));
    const std::string r = c.ReadResponse();
    EXPECT_TRUE(HasHeader(r, "connection: close")) << r;
    EXPECT_TRUE(c.ServerClosed());
  }
  {
    Client c(server_->port());  // curl -0
    c.Send("POST /echo HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    const std::string r = c.ReadToEof();
    EXPECT_EQ(r.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << r;
    EXPECT_TRUE(HasHeader(r, "connection: close"));
    EXPECT_TRUE(r.ends_with("\r\n\r\n{}"));
  }
  {
    Client c(server_->port());
    c.Send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string r = c.ReadResponse();
    EXPECT_TRUE(HasHeader(r, "connection: keep-alive")) << r;
    c.Send("GET /health HTTP/1.0\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
    EXPECT_TRUE(c.ServerClosed());
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  Client c(server_->port());
  c.Send(Post("/echo", "{\"n\":1}") + Get("/nope") + Post("/echo", "{\"n\":2}"));
  EXPECT_TRUE(c.ReadResponse().ends_with("{\"n\":1}"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 404);
  const std::string third = c.ReadResponse();
  EXPECT_TRUE(third.ends_with("{\"n\":2}")) << third;
}

TEST_F(HttpServerTest, RequestsArrivingWhileOneIsPendingWaitTheirTurn) {
  Start();
  Client c(server_->port());
  c.Send(Post("/slow", "{}"));
  auto writer = pending_.Take();
  ASSERT_TRUE(writer.has_value());
  c.Send(Get("/health"));  // pipelined behind the pending request
  std::thread([w = *writer] { w->Respond({200, "text/plain", {}, "late"}); }).join();
  EXPECT_TRUE(c.ReadResponse().ends_with("\r\n\r\nlate"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  // And a pending request after that still works (the disconnect watch was handed back).
  c.Send(Post("/slow", "{}"));
  writer = pending_.Take();
  ASSERT_TRUE(writer.has_value());
  (*writer)->Respond({204, "", {}, ""});
  (*writer)->Respond({500, "", {}, ""});  // only the first answer counts
  EXPECT_EQ(StatusOf(c.ReadResponse()), 204);
  c.Send(Get("/health"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  Start();
  Client c(server_->port());
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_EQ(c.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("{}");
  EXPECT_TRUE(c.ReadResponse().ends_with("\r\n\r\n{}"));
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndClose) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  Start(o);
  {
    Client c(server_->port());
    c.Send("\x01\x02 garbage\r\n\r\n");
    const std::string r = c.ReadToEof();
    EXPECT_EQ(r.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << r;
    EXPECT_TRUE(HasHeader(r, "connection: close"));
  }
  {
    Client c(server_->port());
    c.Send("GET /health HTTP/1.1\r\nContent-Length: nope\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadToEof()), 400);
  }
  {
    Client c(server_->port());
    c.Send("GET /health HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadToEof()), 431);
  }
}

TEST_F(HttpServerTest, AThrowingHandlerOrADroppedWriterGets500) {
  Start();
  Client c(server_->port());
  c.Send(Get("/throw"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 500);
  c.Send(Get("/drop"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 500);
  c.Send(Get("/health"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(HttpServerTest, DisconnectDuringAPendingResponseIsReported) {
  Start();
  std::shared_ptr<ResponseWriter> writer;
  {
    Client c(server_->port());
    c.Send(Post("/slow", "{}"));
    auto w = pending_.Take();
    ASSERT_TRUE(w.has_value());
    writer = *w;
  }  // the client closes (FIN)
  EXPECT_TRUE(disconnects_.Take().has_value());
  writer->Respond({200, "", {}, ""});  // harmless after the client left
  {
    Client c(server_->port());
    c.Send(Post("/slow", "{}"));
    auto w = pending_.Take();  // kept: a dropped writer would answer 500 at once
    ASSERT_TRUE(w.has_value());
    writer = *w;
    c.Reset();  // the client resets the connection
  }
  EXPECT_TRUE(disconnects_.Take().has_value());
}

TEST_F(HttpServerTest, StopEndsPendingRequestsAndWritersOutliveTheServer) {
  Start();
  Client c(server_->port());
  c.Send(Post("/slow", "{}"));
  auto writer = pending_.Take();
  ASSERT_TRUE(writer.has_value());
  EXPECT_EQ(server_->open_connections(), 1);
  server_->Stop();
  EXPECT_TRUE(disconnects_.Take().has_value());
  EXPECT_EQ(server_->open_connections(), 0);
  EXPECT_TRUE(c.ServerClosed());
  server_.reset();
  (*writer)->Respond({200, "", {}, ""});  // no server, no connection: nothing happens
  (*writer)->OnDisconnect([] {});
  writer->reset();
}

TEST_F(HttpServerTest, StopAcceptingKeepsOpenConnections) {
  Start();
  Client c(server_->port());
  c.Send(Get("/health"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  server_->StopAccepting();
  // The open connection still works.
  c.Send(Get("/health"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST(HttpServerStartTest, NonIpHostnameListensEverywhereAndBusyPortFails) {
  ServerOptions o;
  o.hostname = "localhost";  // not an IP literal: 0.0.0.0, like TGI
  o.port = 0;
  auto a = Server::Create(o);
  ASSERT_TRUE(a.ok());
  (*a)->Route("GET", "/health", {}, [](Request&&, std::shared_ptr<ResponseWriter> w) {
    w->Respond({200, "", {}, ""});
  });
  ASSERT_TRUE((*a)->Start().ok());
  Client c((*a)->port());  // 127.0.0.1 reaches 0.0.0.0
  c.Send(Get("/health"));
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);

  ServerOptions busy;
  busy.hostname = "0.0.0.0";
  busy.port = (*a)->port();
  auto b = Server::Create(busy);
  ASSERT_TRUE(b.ok());
  const Status s = (*b)->Start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIoError);

  ServerOptions bad;
  bad.io_threads = 0;
  EXPECT_FALSE(Server::Create(bad).ok());
}

}  // namespace
}  // namespace sg::http
