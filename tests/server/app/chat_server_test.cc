// The Messages API through the real server over loopback sockets: ServerApp with the bundled demo
// model (its tokenizer_config.json has a chat template), streamed and not, tool calls,
// errors in-band on streams (and template/tool errors before them), 429/in-band `overloaded`,
// a client that leaves mid-stream, /chat_tokenize and /invocations.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "../http/test_client.h"
#include "server/app/server_app.h"

namespace sg::server {
namespace {

using http::testing::Client;
using http::testing::Get;
using http::testing::HasHeader;
using http::testing::Post;
using http::testing::StatusOf;
using Json = nlohmann::json;

const std::string kModel = std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf";
const std::string kHi = R"("messages":[{"role":"user","content":"ROMEO:"}])";

// The body of a chunked response, de-chunked.
std::string Dechunk(const std::string& response) {
  const size_t head = response.find("\r\n\r\n");
  if (head == std::string::npos) return "";
  std::string out;
  size_t pos = head + 4;
  while (pos < response.size()) {
    const size_t eol = response.find("\r\n", pos);
    if (eol == std::string::npos) break;
    const size_t n = std::strtoul(response.c_str() + pos, nullptr, 16);
    if (n == 0) break;
    out += response.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  return out;
}

// The SSE payloads ("data: X\n\n" -> X).
std::vector<std::string> Events(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const size_t end = body.find("\n\n", pos);
    out.push_back(body.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

std::string BodyOf(const std::string& response) {
  const size_t head = response.find("\r\n\r\n");
  return head == std::string::npos ? "" : response.substr(head + 4);
}

class ChatServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ServeConfig c;
    c.model_id = kModel;
    c.max_concurrent_requests = 1;  // the overload test needs just two requests
    c.threads = 1;
    c.io_threads = 1;
    c.validation_workers = 1;
    app_ = new ServerApp(c);
    http::ServerOptions o;
    o.hostname = "127.0.0.1";
    o.port = 0;
    auto s = http::Server::Create(o);
    ASSERT_TRUE(s.ok());
    server_ = s->release();
    app_->RegisterRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    const Status loaded = app_->Load();
    ASSERT_TRUE(loaded.ok()) << loaded.message();
  }
  static void TearDownTestSuite() {
    server_->BeginShutdown();
    app_->Shutdown(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    server_->Stop();
    delete server_;
    delete app_;
  }
  static std::string Request(const std::string& path, const std::string& body) {
    Client c(server_->port());
    c.Send(Post(path, body));
    return c.ReadResponse();
  }
  static std::string Stream(const std::string& body) {
    Client c(server_->port());
    c.Send(Post("/v1/chat/completions", body));
    return c.ReadUntil("0\r\n\r\n");
  }
  static int64_t Metric(const std::string& line_prefix) {
    Client c(server_->port());
    c.Send(Get("/metrics"));
    const std::string text = c.ReadResponse();
    const size_t at = text.find("\n" + line_prefix + " ");
    return at == std::string::npos ? 0 : std::atoll(text.c_str() + at + line_prefix.size() + 2);
  }

  static inline ServerApp* app_ = nullptr;
  static inline http::Server* server_ = nullptr;
};

TEST_F(ChatServerTest, NonStreamedCompletion) {
  const std::string r =
      Request("/v1/chat/completions", "{" + kHi + R"(,"max_tokens":5,"temperature":0})");
  ASSERT_EQ(StatusOf(r), 200) << r;
  EXPECT_TRUE(HasHeader(r, "x-generated-tokens: 5")) << r;
  const std::string body = BodyOf(r);
  EXPECT_EQ(body.rfind(R"({"object":"chat.completion","id":"","created":)", 0), 0u) << body;
  const Json j = Json::parse(body);
  EXPECT_EQ(j["model"], kModel);
  EXPECT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(j["usage"]["completion_tokens"], 5);
  // The templated prompt, counted without added special tokens (/chat_tokenize shows it).
  const std::string tok = Request("/chat_tokenize", "{" + kHi + "}");
  ASSERT_EQ(StatusOf(tok), 200) << tok;
  const Json t = Json::parse(BodyOf(tok));
  EXPECT_EQ(t["templated_text"], "USER:\nROMEO:\n\nASSISTANT:\n");
  EXPECT_EQ(j["usage"]["prompt_tokens"], t["tokenize_response"].size());
  EXPECT_TRUE(HasHeader(r, "x-prompt-tokens: " + std::to_string(t["tokenize_response"].size())));
  // `model` other than "tgi" is echoed.
  const Json m = Json::parse(BodyOf(
      Request("/v1/chat/completions", "{" + kHi + R"(,"max_tokens":1,"model":"my-adapter"})")));
  EXPECT_EQ(m["model"], "my-adapter");
}

TEST_F(ChatServerTest, StreamedMatchesNonStreamedAndEndsWithUsageAndDone) {
  const std::string req = "{" + kHi + R"(,"max_tokens":6,"temperature":0,"logprobs":true)";
  const Json whole = Json::parse(BodyOf(Request("/v1/chat/completions", req + "}")));
  const std::string r = Stream(req + R"(,"stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_EQ(StatusOf(r), 200) << r;
  EXPECT_TRUE(HasHeader(r, "content-type: text/event-stream")) << r;
  const std::vector<std::string> events = Events(Dechunk(r));
  ASSERT_EQ(events.size(), 6u + 2u) << r;  // 6 tokens, the usage chunk, [DONE]
  std::string text;
  for (size_t i = 0; i < 6; ++i) {
    const Json c = Json::parse(events[i]);
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_TRUE(c["usage"].is_null());
    EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
    EXPECT_EQ(c["choices"][0]["logprobs"]["content"].size(), 1u);
    EXPECT_EQ(c["choices"][0]["finish_reason"].is_null(), i < 5) << events[i];
    text += c["choices"][0]["delta"]["content"].get<std::string>();
  }
  EXPECT_EQ(Json::parse(events[5])["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(text, whole["choices"][0]["message"]["content"]);
  const Json usage = Json::parse(events[6]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"], whole["usage"]);
  EXPECT_EQ(events[7], "[DONE]");
}

TEST_F(ChatServerTest, ValidationErrorsInBandOnStreams) {
  const std::string r = Stream("{" + kHi + R"(,"top_p":1.0,"stream":true})");
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(Dechunk(r),
            "data: {\"error\":{\"message\":\"Input validation error: `top_p` must be > 0.0 and < "
            "1.0\",\"http_status_code\":422}}\n\ndata: [DONE]\n\n");
  const std::string plain = Request("/v1/chat/completions", "{" + kHi + R"(,"top_p":1.0})");
  EXPECT_EQ(StatusOf(plain), 422);
  EXPECT_EQ(
      BodyOf(plain),
      R"({"error":"Input validation error: `top_p` must be > 0.0 and < 1.0","error_type":"validation"})");
  // A response_format the grammar compiler refuses: checked in validation, so in-band too.
  const std::vector<std::string> events = Events(
      Dechunk(Stream("{" + kHi +
                     R"(,"stream":true,"response_format":{"type":"json","value":{"properties":)"
                     R"({"a":{"type":"string","not":{"const":"x"}}}}}})")));
  ASSERT_EQ(events.size(), 2u);
  const Json e = Json::parse(events[0]);
  EXPECT_EQ(e["error"]["http_status_code"], 422);
  EXPECT_EQ(e["error"]["message"].get<std::string>().rfind(
                "Input validation error: grammar is not valid: ", 0),
            0u)
      << events[0];
  EXPECT_NE(e["error"]["message"].get<std::string>().find("\"not\""), std::string::npos);
  EXPECT_EQ(events[1], "[DONE]");
}

// tool_choice "required" with one tool through the server: TGI's tool_calls answer (non-stream)
// and its tool-call chunks (stream) whose arguments concatenate to the same JSON object.
TEST_F(ChatServerTest, ToolCallsStreamedAndNot) {
  const std::string req =
      "{" + kHi +
      R"(,"max_tokens":120,"seed":7,"tool_choice":"required","tools":[{"type":"function",)"
      R"("function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":)"
      R"({"type":"string","maxLength":12},"unit":{"enum":["c","f"]}},"required":["city","unit"]}}}])";
  const std::string r = Request("/v1/chat/completions", req + "}");
  ASSERT_EQ(StatusOf(r), 200) << r;
  const Json j = Json::parse(BodyOf(r));
  const Json& message = j["choices"][0]["message"];
  EXPECT_FALSE(message.contains("content")) << message;
  ASSERT_EQ(message["tool_calls"].size(), 1u) << message;
  const Json& call = message["tool_calls"][0];
  EXPECT_EQ(call["id"], "0");
  EXPECT_EQ(call["type"], "function");
  EXPECT_TRUE(call["function"]["description"].is_null());
  EXPECT_EQ(call["function"]["name"], "get_weather");
  const Json args = Json::parse(call["function"]["arguments"].get<std::string>());
  EXPECT_TRUE(args["city"].is_string());
  EXPECT_TRUE(args["unit"] == "c" || args["unit"] == "f") << args;
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");

  const std::vector<std::string> events =
      Events(Dechunk(Stream(req + R"(,"stream":true,"stream_options":{"include_usage":true}})")));
  ASSERT_GE(events.size(), 4u);
  std::string arguments;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const Json c = Json::parse(events[i]);
    const Json& choice = c["choices"][0];
    EXPECT_TRUE(choice["finish_reason"].is_null()) << events[i];  // none in a tool-call stream
    const Json& tc = choice["delta"]["tool_calls"][0];
    EXPECT_EQ(tc["id"], "0");
    EXPECT_EQ(tc["function"]["name"], i == 0 ? Json("get_weather") : Json(nullptr));
    if (i == 0) {
      EXPECT_EQ(tc["function"]["arguments"], "{");
    }
    arguments += tc["function"]["arguments"].get<std::string>();
  }
  EXPECT_EQ(Json::parse(arguments), args);  // the same seed: the same call
  EXPECT_TRUE(Json::parse(events[events.size() - 2])["choices"].empty());
  EXPECT_EQ(events.back(), "[DONE]");
}

TEST_F(ChatServerTest, ToolErrorsAreHttpErrorsEvenForStreams) {
  const std::string r = Request(
      "/v1/chat/completions",
      "{" + kHi +
          R"(,"stream":true,"tool_choice":"nope","tools":[{"type":"function","function":{"name":)"
          R"("f","arguments":{}}}]})");
  EXPECT_EQ(StatusOf(r), 422) << r;
  EXPECT_EQ(BodyOf(r),
            R"({"error":"Tool error: Tool with name nope not found","error_type":"tool_error"})");
  const std::string bad = Request("/v1/chat/completions", R"({"messages":[{"role":"user"}]})");
  EXPECT_EQ(StatusOf(bad), 422);
  EXPECT_TRUE(HasHeader(bad, "content-type: text/plain; charset=utf-8")) << bad;
}

TEST_F(ChatServerTest, OverloadedIs429OrInBand) {
  // One permit: a long stream holds it while the next requests arrive.
  for (int attempt = 0; attempt < 5; ++attempt) {
    Client first(server_->port());
    first.Send(Post("/v1/chat/completions", "{" + kHi + R"(,"max_tokens":200,"stream":true})"));
    first.ReadUntil("data: ");  // running: it holds the permit
    const std::string plain = Request("/v1/chat/completions", "{" + kHi + R"(,"max_tokens":1})");
    const std::string streamed = Stream("{" + kHi + R"(,"max_tokens":1,"stream":true})");
    first.Reset();  // leaving cancels it (no need to wait for its 200 tokens)
    if (StatusOf(plain) == 200) continue;  // the first one finished early: try again
    EXPECT_EQ(StatusOf(plain), 429);
    EXPECT_EQ(BodyOf(plain), R"({"error":"Model is overloaded","error_type":"overloaded"})");
    if (Dechunk(streamed).find("overloaded") == std::string::npos &&
        Dechunk(streamed).find("[DONE]") != std::string::npos &&
        Dechunk(streamed).find("error") == std::string::npos) {
      continue;
    }
    EXPECT_EQ(StatusOf(streamed), 200);
    EXPECT_EQ(Dechunk(streamed),
              "data: {\"error\":{\"message\":\"Model is overloaded\",\"http_status_code\":422}}"
              "\n\ndata: [DONE]\n\n");
    return;
  }
  GTEST_SKIP() << "the holding stream always finished before the next request";
}

TEST_F(ChatServerTest, ClientLeavingMidStreamCancels) {
  const int64_t before = Metric("tgi_request_failure{err=\"dropped\"}");
  {
    Client c(server_->port());
    c.Send(Post("/v1/chat/completions", "{" + kHi + R"(,"max_tokens":200,"stream":true})"));
    c.ReadUntil("data: ");
    c.Reset();
  }
  // The permit comes back: the next request (one permit in all) is served.
  std::string r;
  for (int i = 0; i < 100; ++i) {
    r = Request("/v1/chat/completions", "{" + kHi + R"(,"max_tokens":1})");
    if (StatusOf(r) == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_LE(before, Metric("tgi_request_failure{err=\"dropped\"}"));
}

TEST_F(ChatServerTest, InvocationsDispatchesChatBodies) {
  const int64_t before = Metric("tgi_request_count");
  const std::string r = Request("/invocations", "{" + kHi + R"(,"max_tokens":2})");
  ASSERT_EQ(StatusOf(r), 200) << r;
  EXPECT_EQ(Json::parse(BodyOf(r))["object"], "chat.completion");
  // TGI counts a chat request twice (the chat handler, then its generate path).
  EXPECT_EQ(Metric("tgi_request_count"), before + 2);
}

}  // namespace
}  // namespace sg::server
