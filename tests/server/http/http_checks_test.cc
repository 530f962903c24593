// The pure pieces of server/http: routing decisions, auth, CORS, content types, the wire format
// and the bytes-in/status-out function the fuzz target drives.
#include <gtest/gtest.h>

#include "server/http/auth.h"
#include "server/http/cors.h"
#include "server/http/request_parse.h"
#include "server/http/routing.h"
#include "server/http/wire.h"

namespace sg::http {
namespace {

void Noop(Request&&, std::shared_ptr<ResponseWriter>) {}

RouteTable Routes() {
  RouteTable t;
  t.Add("POST", "/generate", {.json_body = true, .protected_ = true}, Noop);
  t.Add("POST", "/chat_tokenize", {.json_body = true, .protected_ = false}, Noop);
  t.Add("GET", "/health", {}, Noop);
  t.Add("GET", "/", {}, Noop);
  t.Add("POST", "/", {.json_body = true, .protected_ = true}, Noop);
  return t;
}

Request Make(std::string method, std::string path, Headers headers = {}) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.headers = std::move(headers);
  return r;
}

int StatusOf(const Decision& d) { return d.response ? d.response->status : 0; }

TEST(ApiKeyTest, ComparesTheWholeValueCaseInsensitively) {
  EXPECT_TRUE(ApiKeyMatches("Bearer secret", "secret"));
  EXPECT_TRUE(ApiKeyMatches("BEARER SeCrEt", "sEcReT"));
  EXPECT_FALSE(ApiKeyMatches("Bearer secre", "secret"));
  EXPECT_FALSE(ApiKeyMatches("Bearer secrets", "secret"));
  EXPECT_FALSE(ApiKeyMatches("Bearer  secret", "secret"));
  EXPECT_FALSE(ApiKeyMatches("secret", "secret"));
  EXPECT_FALSE(ApiKeyMatches("Basic secret", "secret"));
  EXPECT_FALSE(ApiKeyMatches("", "secret"));
  EXPECT_FALSE(ApiKeyMatches(std::string_view("Bearer secret\0", 14), "secret"));
  // Only ASCII letters fold: '@' and '`' are not 'A'/'a' in disguise.
  EXPECT_FALSE(ApiKeyMatches("Bearer @", "`"));
}

TEST(ContentTypeTest, AcceptsJsonAndPlusJsonWithParameters) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON"));
  EXPECT_TRUE(IsJsonContentType("application/x+json"));
  EXPECT_TRUE(IsJsonContentType("application/vnd.api+json;charset=utf-8"));
  EXPECT_FALSE(IsJsonContentType(""));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType("application/+json"));
  EXPECT_FALSE(IsJsonContentType("text/x+json"));
  EXPECT_FALSE(IsJsonContentType("application/jsonx"));
  EXPECT_FALSE(IsJsonContentType("application/x-www-form-urlencoded"));
}

TEST(RouteTableTest, FrameworkAnswersInTgiOrder) {
  const RouteTable t = Routes();
  ServerOptions o;
  o.api_key = "k";
  const Headers json = {{"content-type", "application/json"}, {"authorization", "Bearer k"}};
  EXPECT_EQ(StatusOf(t.Decide(Make("POST", "/generate", json), o)), 0);
  EXPECT_EQ(StatusOf(t.Decide(Make("GET", "/nope"), o)), 404);
  const Decision get_generate = t.Decide(Make("GET", "/generate"), o);
  EXPECT_EQ(StatusOf(get_generate), 405);
  EXPECT_EQ(get_generate.response->headers, (Headers{{"allow", "POST"}}));
  const Decision put_root = t.Decide(Make("PUT", "/"), o);
  EXPECT_EQ(put_root.response->headers, (Headers{{"allow", "GET,HEAD,POST"}}));
  EXPECT_EQ(StatusOf(t.Decide(Make("HEAD", "/health"), o)), 0);
  // Auth before content type: no key and no content type is a 401.
  EXPECT_EQ(StatusOf(t.Decide(Make("POST", "/generate"), o)), 401);
  const Decision no_type = t.Decide(Make("POST", "/generate", {{"authorization", "bearer K"}}), o);
  EXPECT_EQ(StatusOf(no_type), 415);
  EXPECT_EQ(no_type.response->body, "Expected request with `Content-Type: application/json`");
  EXPECT_EQ(no_type.response->content_type, "text/plain; charset=utf-8");
  // Unprotected routes ignore the key.
  EXPECT_EQ(StatusOf(t.Decide(Make("POST", "/chat_tokenize", {json[0]}), o)), 0);
  EXPECT_EQ(StatusOf(t.Decide(Make("GET", "/health"), o)), 0);
  // No key configured: protected routes are open.
  EXPECT_EQ(StatusOf(t.Decide(Make("POST", "/generate", {json[0]}), ServerOptions{})), 0);
}

TEST(RouteTableTest, PreflightIsAnsweredForAnyPath) {
  const RouteTable t = Routes();
  const Headers pre = {{"origin", "http://a"}, {"access-control-request-method", "POST"}};
  const Decision d = t.Decide(Make("OPTIONS", "/anything", pre), ServerOptions{});
  ASSERT_EQ(StatusOf(d), 200);
  EXPECT_EQ(d.response->headers, (Headers{{"access-control-allow-methods", "GET,POST"},
                                          {"access-control-allow-headers", "content-type"}}));
  // A plain OPTIONS (not a preflight) is routed like any other method.
  EXPECT_EQ(StatusOf(t.Decide(Make("OPTIONS", "/generate"), ServerOptions{})), 405);
}

TEST(CorsTest, WildcardOrTheConfiguredOrigins) {
  ServerOptions o;
  EXPECT_EQ(CorsHeaders(Make("GET", "/"), o), (Headers{{"access-control-allow-origin", "*"}}));
  o.cors_allow_origins = {"http://a.example", "http://b.example"};
  EXPECT_EQ(CorsHeaders(Make("GET", "/", {{"origin", "http://b.example"}}), o),
            (Headers{{"access-control-allow-origin", "http://b.example"}, {"vary", "origin"}}));
  EXPECT_EQ(CorsHeaders(Make("GET", "/", {{"origin", "http://evil.example"}}), o),
            (Headers{{"vary", "origin"}}));
  EXPECT_EQ(CorsHeaders(Make("GET", "/"), o), (Headers{{"vary", "origin"}}));
}

TEST(WireTest, ResponsesAndChunks) {
  const Response r{415, "text/plain; charset=utf-8", {{"x-a", "1"}}, "body"};
  EXPECT_EQ(SerializeResponse(r, Framing{}, {{"access-control-allow-origin", "*"}}),
            "HTTP/1.1 415 Unsupported Media Type\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 4\r\nx-a: 1\r\naccess-control-allow-origin: *\r\n\r\nbody");
  EXPECT_EQ(SerializeResponse({200, "", {}, "abc"}, Framing{0, true, true}, {}),
            "HTTP/1.0 200 OK\r\ncontent-length: 3\r\nconnection: keep-alive\r\n\r\n");
  EXPECT_EQ(SerializeResponse({404, "", {}, ""}, Framing{1, false, false}, {}),
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  // CR/LF in a header value cannot split the response.
  EXPECT_EQ(SerializeResponse({200, "", {{"x-b", "v\r\nset-cookie: y"}}, ""}, Framing{}, {}),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-b: vset-cookie: y\r\n\r\n");
  EXPECT_EQ(Chunk("data: {}\n\n"), "a\r\ndata: {}\n\n\r\n");
  EXPECT_EQ(Chunk(std::string(300, 'x')), "12c\r\n" + std::string(300, 'x') + "\r\n");
  EXPECT_EQ(SerializeSseHead({{"x-compute-type", "cpu"}}, 1),
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            "x-accel-buffering: no\r\ntransfer-encoding: chunked\r\nx-compute-type: cpu\r\n\r\n");
}

// The first answer DecideConnection gives for `bytes` delivered at once; -1 if the bytes end
// before a request does.
int DecideFromBytes(const std::string& bytes, const RouteTable& t, const ServerOptions& o) {
  const ConnectionOutcome out = DecideConnection(bytes, {}, t, o);
  return out.statuses.empty() ? -1 : out.statuses.front();
}

TEST(DecideConnectionTest, EveryFrameworkStatus) {
  const RouteTable t = Routes();
  ServerOptions o;
  o.payload_limit = 16;
  o.max_header_bytes = 256;
  o.api_key = "k";
  const std::string auth = "Authorization: Bearer k\r\n";
  auto post = [](const std::string& path, const std::string& headers, const std::string& body) {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  };
  const std::string json = "Content-Type: application/json\r\n";
  EXPECT_EQ(DecideFromBytes(post("/generate", json + auth, "{}"), t, o), 0);
  EXPECT_EQ(DecideFromBytes(post("/generate", json, "{}"), t, o), 401);
  EXPECT_EQ(DecideFromBytes(post("/generate", auth, "{}"), t, o), 415);
  EXPECT_EQ(DecideFromBytes(post("/nope", auth, "{}"), t, o), 404);
  EXPECT_EQ(DecideFromBytes("GET /generate HTTP/1.1\r\n\r\n", t, o), 405);
  EXPECT_EQ(DecideFromBytes(post("/generate", json + auth, std::string(17, 'x')), t, o), 413);
  // 413 from the header alone: the body is never needed.
  EXPECT_EQ(DecideFromBytes("POST /generate HTTP/1.1\r\nContent-Length: 99999\r\n\r\n", t, o), 413);
  // A chunked body that grows past the limit.
  EXPECT_EQ(DecideFromBytes("POST /generate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + json +
                                auth + "\r\n8\r\n12345678\r\n9\r\n123456789\r\n0\r\n\r\n",
                            t, o),
            413);
  EXPECT_EQ(DecideFromBytes("POST /generate HTTP/1.1\r\nTransfer-Encoding: chunked\r\n" + json +
                                auth + "\r\n8\r\n12345678\r\n0\r\n\r\n",
                            t, o),
            0);
  EXPECT_EQ(
      DecideFromBytes("GET /health HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n", t, o),
      431);
  EXPECT_EQ(DecideFromBytes("\x01\x02 garbage\r\n\r\n", t, o), 400);
  EXPECT_EQ(DecideFromBytes("GET /health HTTP/1.1\r\nContent-Length: x\r\n\r\n", t, o), 400);
  EXPECT_EQ(
      DecideFromBytes("OPTIONS /x HTTP/1.1\r\nAccess-Control-Request-Method: POST\r\n\r\n", t, o),
      200);
  EXPECT_EQ(DecideFromBytes("GET /health HTTP/1.1\r\n", t, o), -1);
  EXPECT_EQ(DecideFromBytes(post("/generate", json + auth, "{}").substr(0, 90), t, o), -1);
  EXPECT_EQ(DecideFromBytes("", t, o), -1);
}

}  // namespace
}  // namespace sg::http
