// The serving benchmark's stream reading: the incremental SSE parser (events split at every byte,
// CRLF and CR line ends, comments, multi-line data) and the meaning of each endpoint's events.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/bench_serve/sse_parser.h"
#include "cli/bench_serve/stream_event.h"

namespace sg::benchserve::sse_test {
namespace {

std::vector<std::string> ParseInPieces(const std::string& wire, size_t piece) {
  SseParser p;
  std::vector<std::string> events;
  auto on = [&](std::string_view d) { events.emplace_back(d); };
  for (size_t i = 0; i < wire.size(); i += piece) p.Feed(wire.substr(i, piece), on);
  p.Finish(on);
  return events;
}

TEST(BenchServeSse, EventsSurviveEverySplitPoint) {
  const std::string wire =
      "data: {\"index\":1}\r\n\r\n:\r\n\r\ndata:{\"index\":2}\n\ndata: [DONE]\r\r";
  const std::vector<std::string> want = {"{\"index\":1}", "{\"index\":2}", "[DONE]"};
  for (size_t piece = 1; piece <= wire.size(); ++piece) {
    EXPECT_EQ(ParseInPieces(wire, piece), want) << "piece size " << piece;
  }
  // Every two-way split, too: a "\r\n" pair broken across reads must not end two lines.
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    SseParser p;
    std::vector<std::string> got;
    auto on = [&](std::string_view d) { got.emplace_back(d); };
    p.Feed(wire.substr(0, cut), on);
    p.Feed(wire.substr(cut), on);
    EXPECT_EQ(got, want) << "cut at " << cut;
  }
}

TEST(BenchServeSse, MultiLineDataCommentsAndOtherFields) {
  SseParser p;
  std::vector<std::string> got;
  auto on = [&](std::string_view d) { got.emplace_back(d); };
  p.Feed(": keep-alive\n\nevent: token\nid: 7\ndata: a\ndata:  b\nretry: 10\n\n", on);
  EXPECT_EQ(got, (std::vector<std::string>{"a\n b"}));
  EXPECT_EQ(p.comments(), 1u);
  p.Feed("event: only\n\n", on);  // an event without data is not dispatched
  EXPECT_EQ(got.size(), 1u);
}

TEST(BenchServeSse, UnterminatedLastEventIsDeliveredAtFinish) {
  SseParser p;
  std::vector<std::string> got;
  auto on = [&](std::string_view d) { got.emplace_back(d); };
  p.Feed("data: x\n\ndata: last", on);
  EXPECT_EQ(got.size(), 1u);
  p.Finish(on);
  EXPECT_EQ(got, (std::vector<std::string>{"x", "last"}));
}

TEST(BenchServeEvents, NativeTokenFinalAndError) {
  StreamEvent t = InterpretEvent(
      Endpoint::kGenerateStream,
      R"({"index":1,"token":{"id":3,"text":"a","logprob":-1,"special":false},"generated_text":null,"details":null})");
  EXPECT_TRUE(t.token);
  EXPECT_FALSE(t.done);
  EXPECT_FALSE(t.error);
  StreamEvent f = InterpretEvent(
      Endpoint::kGenerateStream,
      R"({"index":2,"token":{"id":2,"text":"</s>","logprob":0,"special":true},"generated_text":"a","details":{"finish_reason":"eos_token","generated_tokens":2,"seed":null,"input_length":5}})");
  EXPECT_TRUE(f.token);
  EXPECT_TRUE(f.done);
  EXPECT_EQ(f.completion_tokens, 2);
  EXPECT_EQ(f.prompt_tokens, 5);
  StreamEvent o = InterpretEvent(Endpoint::kGenerateStream,
                                 R"({"error":"Model is overloaded","error_type":"overloaded"})");
  EXPECT_TRUE(o.error);
  EXPECT_TRUE(o.overloaded);
  EXPECT_FALSE(o.token);
  EXPECT_EQ(o.error_message, "Model is overloaded");
  StreamEvent v =
      InterpretEvent(Endpoint::kGenerateStream,
                     R"({"error":"Input validation error: bad","error_type":"validation"})");
  EXPECT_TRUE(v.error);
  EXPECT_FALSE(v.overloaded);
  StreamEvent junk = InterpretEvent(Endpoint::kGenerateStream, "not json");
  EXPECT_TRUE(junk.error);
}

TEST(BenchServeEvents, OpenAiChunksDoneUsageAndErrors) {
  EXPECT_TRUE(InterpretEvent(Endpoint::kChat, "[DONE]").done);
  StreamEvent c = InterpretEvent(
      Endpoint::kChat,
      R"({"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"OK"},"logprobs":null,"finish_reason":null}],"usage":null})");
  EXPECT_TRUE(c.token);
  EXPECT_FALSE(c.done);
  // vLLM's first chunk: the role alone, no text: not a token (TTFT waits for real text).
  EXPECT_FALSE(
      InterpretEvent(
          Endpoint::kChat,
          R"({"choices":[{"delta":{"role":"assistant","content":""},"finish_reason":null}]})")
          .token);
  // TGI's EOS chunk: empty content but a finish_reason: the last token.
  EXPECT_TRUE(
      InterpretEvent(
          Endpoint::kChat,
          R"({"choices":[{"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]})")
          .token);
  StreamEvent u = InterpretEvent(
      Endpoint::kChat,
      R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}})");
  EXPECT_FALSE(u.token);
  EXPECT_EQ(u.prompt_tokens, 9);
  EXPECT_EQ(u.completion_tokens, 4);
  // Completions: TGI's intermediate finish_reason is "" (not a finish).
  EXPECT_TRUE(InterpretEvent(Endpoint::kCompletions,
                             R"({"choices":[{"index":0,"text":" the","finish_reason":""}]})")
                  .token);
  EXPECT_FALSE(InterpretEvent(Endpoint::kCompletions,
                              R"({"choices":[{"index":0,"text":"","finish_reason":""}]})")
                   .token);
  StreamEvent e =
      InterpretEvent(Endpoint::kCompletions,
                     R"({"error":{"message":"Model is overloaded","http_status_code":422}})");
  EXPECT_TRUE(e.error);
  EXPECT_TRUE(e.overloaded);
  StreamEvent g = InterpretEvent(
      Endpoint::kChat,
      R"({"error":{"message":"Request failed during generation","http_status_code":422}})");
  EXPECT_TRUE(g.error);
  EXPECT_FALSE(g.overloaded);
}

}  // namespace
}  // namespace sg::benchserve::sse_test
