// Tool calling (API contract §9.3, §9.5): the tool-call schema TGI builds for each tool_choice
// mode, the parse of a finished generation into TGI's tool_calls answer (and its errors), the
// non-streamed body, the streamed chunk sequence from canned tokens (TGI's own unit-test token
// sequences among them), and the streamed tool-call id.
#include "server/api/chat_tools.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "server/api/chat_prompt.h"

namespace sg::api::chat_tools_test {
namespace {

using Json = nlohmann::ordered_json;

const std::string kFp = std::string(STREAMGEN_VERSION) + "-native";
const char kTools[] =
    R"("tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",)"
    R"("parameters":{"type":"object","properties":{"location":{"type":"string"},)"
    R"("format":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}}},)"
    R"({"type":"function","function":{"name":"a/b~c","arguments":{"type":"object",)"
    R"("properties":{"n":{"type":"integer"}},"additionalProperties":"true"}}}])";

// The tool-call schema ChatPrompter builds for `choice` ("" = absent), as ordered JSON.
Json ToolGrammar(const std::string& choice) {
  ChatTemplateSource s;
  s.default_template = "{% for m in messages %}{{ m.content }}{% endfor %}";
  auto p = ChatPrompter::Create(s);
  EXPECT_TRUE(p.ok());
  const std::string body = R"({"messages":[{"role":"user","content":"hi"}],)" +
                           (choice.empty() ? "" : R"("tool_choice":)" + choice + ",") + kTools +
                           "}";
  auto r = ParseChatRequest(body);
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(r)) << body;
  auto prompt = (*p)->Apply(std::get<ChatRequest>(r));
  EXPECT_TRUE(std::holds_alternative<ChatPrompt>(prompt)) << body;
  const ChatPrompt& cp = std::get<ChatPrompt>(prompt);
  if (!cp.using_tools) return nullptr;
  // ChatToGenerate hands it to validation as TGI's GrammarType::Json.
  const GenerateRequest g = ChatToGenerate(std::get<ChatRequest>(r), cp);
  EXPECT_TRUE(g.parameters.has_grammar);
  EXPECT_EQ(g.parameters.grammar_type, "json");
  EXPECT_EQ(g.parameters.grammar_value, cp.tool_grammar);
  return Json::parse(cp.tool_grammar);
}

const char kWeather[] =
    R"("get_weather":{"description":"Weather now","additionalProperties":false,"properties":{)"
    R"("_name":{"type":"string","const":"get_weather"},"location":{"type":"string"},)"
    R"("format":{"type":"string","enum":["celsius","fahrenheit"]}},)"
    R"("required":["_name","location"]})";
const char kAb[] =
    R"("a/b~c":{"description":"","additionalProperties":true,"properties":{)"
    R"("_name":{"type":"string","const":"a/b~c"},"n":{"type":"integer"}},"required":["_name"]})";
const char kNoTool[] =
    R"("no_tool":{"description":"Open ended response with no specific tool selected",)"
    R"("additionalProperties":false,"properties":{"_name":{"type":"string","const":"no_tool"}},)"
    R"("required":["_name"]})";

TEST(ToolSchema, EachToolChoiceMode) {
  // required: every tool; names escaped in the $ref (JSON pointer and URI fragment).
  EXPECT_EQ(ToolGrammar(R"("required")"),
            Json::parse(std::string(R"({"$functions":{)") + kWeather + "," + kAb +
                        R"(},"properties":{"function":{"anyOf":[)"
                        R"({"$ref":"#/$functions/get_weather"},{"$ref":"#/$functions/a~1b~0c"}]}},)"
                        R"("required":["function"]})"));
  // auto (and absent): every tool plus no_tool, last.
  const Json with_no_tool =
      Json::parse(std::string(R"({"$functions":{)") + kWeather + "," + kAb + "," + kNoTool +
                  R"(},"properties":{"function":{"anyOf":[{"$ref":"#/$functions/get_weather"},)"
                  R"({"$ref":"#/$functions/a~1b~0c"},{"$ref":"#/$functions/no_tool"}]}},)"
                  R"("required":["function"]})");
  EXPECT_EQ(ToolGrammar(R"("auto")"), with_no_tool);
  EXPECT_EQ(ToolGrammar(""), with_no_tool);
  // A named function, by name or in OpenAI's object form: that tool alone.
  const Json named =
      Json::parse(std::string(R"({"$functions":{)") + kWeather +
                  R"(},"properties":{"function":{"anyOf":[{"$ref":"#/$functions/get_weather"}]}},)"
                  R"("required":["function"]})");
  EXPECT_EQ(ToolGrammar(R"("get_weather")"), named);
  EXPECT_EQ(ToolGrammar(R"({"type":"function","function":{"name":"get_weather"}})"), named);
  // none: no tools, no grammar.
  EXPECT_EQ(ToolGrammar(R"("none")"), nullptr);
}

TEST(ToolSchema, KeyOrderAsTgiInsertsIt) {
  // The text itself (what the grammar cache sees): properties in the tool's order after _name.
  std::vector<ChatTool> tools(1);
  tools[0].type = "function";
  tools[0].name = "f";
  tools[0].arguments = Json::parse(R"({"properties":{"z":{},"a":{}},"required":["z"]})");
  EXPECT_EQ(
      ToolCallSchema(tools).dump(),
      R"({"$functions":{"f":{"description":"","additionalProperties":false,"properties":{)"
      R"("_name":{"type":"string","const":"f"},"z":{},"a":{}},"required":["_name","z"]}},)"
      R"("properties":{"function":{"anyOf":[{"$ref":"#/$functions/f"}]}},"required":["function"]})");
  // Parameters that are not an object: only _name, and no additionalProperties key (TGI).
  tools[0].arguments = "x";
  EXPECT_EQ(ToolCallSchema(tools)["$functions"]["f"].dump(),
            R"({"description":"","properties":{"_name":{"type":"string","const":"f"}},)"
            R"("required":["_name"]})");
}

ParsedToolCall Parsed(std::string_view text) {
  auto r = ParseToolCall(text);
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << text << ": " << e->error;
    return {};
  }
  return std::get<ParsedToolCall>(r);
}

std::string ParseError(std::string_view text) {
  auto r = ParseToolCall(text);
  if (auto* e = std::get_if<ApiError>(&r)) {
    EXPECT_EQ(e->status, 422);
    EXPECT_EQ(e->error_type, "tool_error");
    return e->error;
  }
  ADD_FAILURE() << text << " parsed";
  return "";
}

TEST(ToolParse, ArgumentsCompactInTheirOrder) {
  ParsedToolCall p = Parsed(
      R"({ "function": {"_name": "get_weather", "location": "Paris, \"FR\"\n", "days": 3,)"
      R"( "temp": 21.50, "big": 1e20, "neg": -2, "ok": true, "none": null, "list": [1, {"b": 2, "a": 1}]} })");
  EXPECT_FALSE(p.no_tool);
  EXPECT_EQ(p.call.name, "get_weather");
  EXPECT_EQ(p.call.arguments,
            R"({"location":"Paris, \"FR\"\n","days":3,"temp":21.5,"big":1e20,"neg":-2,"ok":true,)"
            R"("none":null,"list":[1,{"b":2,"a":1}]})");
  // _name anywhere; no other keys: "{}".
  EXPECT_EQ(Parsed(R"({"function":{"x":"1","_name":"f"}})").call.arguments, R"({"x":"1"})");
  EXPECT_EQ(Parsed(R"({"function":{"_name":"f"}})").call.arguments, "{}");
  EXPECT_TRUE(Parsed(R"({"function": {"_name": "no_tool"}})").no_tool);
}

TEST(ToolParse, FailuresAreToolErrorsWithSerdesWords) {
  // Cut short by max_tokens: serde_json's error, then the text as Rust's Debug prints it.
  EXPECT_EQ(
      ParseError(R"({"function": {"_name": "f", "a": "x)"),
      R"(Tool error: Failed to parse generated text: EOF while parsing a string at line 1 column 35 "{\"function\": {\"_name\": \"f\", \"a\": \"x")");
  EXPECT_EQ(
      ParseError("Hello"),
      R"(Tool error: Failed to parse generated text: expected value at line 1 column 1 "Hello")");
  EXPECT_EQ(
      ParseError("{ }"),
      R"(Tool error: Failed to parse generated text: missing field `function` at line 1 column 3 "{ }")");
  EXPECT_EQ(
      ParseError(R"({"function":{"a":1}})"),
      R"(Tool error: Failed to parse generated text: missing field `_name` at line 1 column 19 "{\"function\":{\"a\":1}}")");
  EXPECT_EQ(
      ParseError(R"({"function":{"_name":5}})"),
      R"(Tool error: Failed to parse generated text: invalid type: integer `5`, expected a string at line 1 column 23 "{\"function\":{\"_name\":5}}")");
}

TEST(ToolParse, NonStreamedBody) {
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  end.generated_tokens = 20;
  end.input_length = 100;
  const ChatToolCall call{"get_weather", R"({"location":"Paris"})"};
  EXPECT_EQ(
      ChatCompletionJson(7, "m", {}, {}, false, end, &call),
      R"({"object":"chat.completion","id":"","created":7,"model":"m","system_fingerprint":")" +
          kFp +
          R"(","choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"0",)"
          R"("type":"function","function":{"description":null,"name":"get_weather",)"
          R"("arguments":"{\"location\":\"Paris\"}"}}]},"logprobs":null,"finish_reason":"stop"}],)"
          R"("usage":{"prompt_tokens":100,"completion_tokens":20,"total_tokens":120}})");
}

// Feeds tokens (texts; `special` for the last when it is "</s>") and collects the chunks.
struct Fed {
  std::vector<std::string> chunks;
  bool no_tool = false;
  size_t no_tool_at = 0;
};

Fed Feed(ToolCallStream& s, const std::vector<std::string>& texts, const GenerationEnd* end,
         bool last_is_eos = false, bool logprobs = false) {
  Fed out;
  for (size_t i = 0; i < texts.size(); ++i) {
    const bool last = i + 1 == texts.size();
    TokenInfo t{static_cast<int32_t>(i), texts[i], -0.5f, last && last_is_eos};
    if (s.Push(t, {}, last ? end : nullptr, {5, "m", logprobs}, &out.chunks) ==
        ToolCallStream::Step::kNoTool) {
      out.no_tool = true;
      out.no_tool_at = i;
      return out;
    }
  }
  return out;
}

std::string ToolChunk(const std::string& name_json, const std::string& arguments_json,
                      const std::string& finish = "null") {
  return R"({"object":"chat.completion.chunk","id":"","created":5,"model":"m","system_fingerprint":")" +
         kFp +
         R"(","choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"0",)"
         R"("type":"function","function":{"name":)" +
         name_json + R"(,"arguments":)" + arguments_json +
         R"(}}]},"logprobs":null,"finish_reason":)" + finish + R"(}],"usage":null})";
}

std::string Arguments(const std::vector<std::string>& chunks) {
  std::string out;
  for (const std::string& c : chunks) {
    const Json j = Json::parse(c);
    out += j["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].get<std::string>();
  }
  return out;
}

// TGI's test_chat_stream_tool_get_weather token sequence: the same 17 chunks, the same arguments.
TEST(ToolStream, TgiGetWeatherSequence) {
  const std::vector<std::string> tokens = {
      "{\"", "function",   "\":",      " {\"", "_",   "name",     "\":",    " \"",
      "get", "_current",   "_weather", "\",",  " \"", "location", "\":",    " \"",
      "San", " Francisco", ",",        " CA",  "\",", " \"",      "format", "\":",
      " \"", "c",          "elsius",   "\"}}", "</s>"};
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  end.generated_text =
      R"({"function": {"_name": "get_current_weather", "location": "San Francisco, CA", "format": "celsius"}})";
  ToolCallStream s("0");
  const Fed f = Feed(s, tokens, &end, /*last_is_eos=*/true);
  ASSERT_FALSE(f.no_tool);
  // Every chunk byte for byte: the name and "{" first, then each token's text, the closing
  // token without one brace; nothing for the tokens before the name closes or after the call.
  const std::vector<std::string> arguments = {
      "{",   " \"", "location", "\":", " \"", "San", " Francisco", ",",  " CA",
      "\",", " \"", "format",   "\":", " \"", "c",   "elsius",     "\"}"};
  ASSERT_EQ(f.chunks.size(), arguments.size());
  for (size_t i = 0; i < arguments.size(); ++i) {
    EXPECT_EQ(f.chunks[i], ToolChunk(i == 0 ? R"("get_current_weather")" : "null",
                                     nlohmann::json(arguments[i]).dump()))
        << i;
  }
  EXPECT_EQ(Arguments(f.chunks), R"({ "location": "San Francisco, CA", "format": "celsius"})");
}

// TGI's test_chat_stream_tool_no_tool_simple: `no_tool` is known on the 11th token.
TEST(ToolStream, NoToolStopsTheStream) {
  ToolCallStream s("0");
  const Fed f = Feed(s,
                     {"{\"", "function", "\":", " {\"", "_", "name", "\":", " \"", "no", "_tool",
                      "\",", " \"", "content"},
                     nullptr);
  EXPECT_TRUE(f.no_tool);
  EXPECT_TRUE(f.chunks.empty());
  // With our grammar no_tool has no arguments: the name closes on `"}`.
  ToolCallStream t("0");
  const Fed g = Feed(t, {"{\"function\": {\"_name\": \"no", "_tool", "\"}", "}"}, nullptr);
  EXPECT_TRUE(g.no_tool);
  EXPECT_EQ(g.no_tool_at, 2u);
}

TEST(ToolStream, TextPastTheNameInTheSameTokenIsKept) {
  // `", "` runs past the name's comma: TGI would drop ` "` (and more); we send it after "{".
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  ToolCallStream s("7");
  const Fed f =
      Feed(s, {"{\"function\": {\"_name\": \"f", "\", \"", "a\": 1", "}", "}", "</s>"}, &end, true);
  ASSERT_EQ(f.chunks.size(), 5u);
  EXPECT_EQ(Json::parse(f.chunks[0])["choices"][0]["delta"]["tool_calls"][0]["id"], "7");
  EXPECT_EQ(Arguments(f.chunks), R"({ "a": 1})");
}

TEST(ToolStream, HeldBackBytesComeFromTheWholeDecode) {
  // The demo model spells braces and quotes with byte-fallback tokens whose text the incremental
  // detokenizer holds back one token: the last "}" arrives inside the EOS text "}</s>".
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  end.generated_text = R"({ "function": { "_name": "f", "a": 2 } })";
  ToolCallStream s("0");
  const Fed f = Feed(s,
                     {"", "{ ", "", "\"function", "\": ", "{ ", "\"_name", "\": ", "\"f", "\",",
                      " ", "\"a\": ", "2 ", "} ", "}</s>"},
                     &end, true);
  ASSERT_FALSE(f.chunks.empty());
  EXPECT_EQ(Arguments(f.chunks), R"({ "a": 2 } )");
  for (const std::string& c : f.chunks) {
    EXPECT_TRUE(Json::parse(c)["choices"][0]["finish_reason"].is_null()) << c;
  }
  EXPECT_EQ(Json::parse(Arguments(f.chunks)), Json::parse(R"({"a":2})"));
}

TEST(ToolStream, LengthEndsWithAFinishReason) {
  // Cut short before the JSON closes: the last fragment carries "length" (TGI sends it so).
  GenerationEnd end;
  end.finish_reason = FinishReason::kLength;
  ToolCallStream s("0");
  const Fed f = Feed(s, {"{\"function\": {\"_name\": \"f\"", ", \"a\": ", "1"}, &end);
  ASSERT_EQ(f.chunks.size(), 3u);
  EXPECT_EQ(f.chunks[2], ToolChunk("null", R"("1")", R"("length")"));
  // Cut short while buffering: nothing at all.
  ToolCallStream t("0");
  EXPECT_TRUE(Feed(t, {"{\"function\": {\"_na"}, &end).chunks.empty());
}

TEST(ToolStream, LogprobsShowTheSentText) {
  ToolCallStream s("0");
  const Fed f = Feed(s, {"{\"function\": {\"_name\": \"f\","}, nullptr, false, true);
  ASSERT_EQ(f.chunks.size(), 1u);
  EXPECT_EQ(Json::parse(f.chunks[0])["choices"][0]["logprobs"].dump(),
            R"({"content":[{"token":"{","logprob":-0.5,"top_logprobs":[]}]})");
}

TEST(ToolCallId, IntegersThenUuid) {
  auto random = [] { return uint64_t{0x0123456789abcdefULL}; };
  std::vector<ChatMessage> m(3);
  EXPECT_EQ(NextToolCallId(m, random), "0");
  m[0].tool_call_ids = {"0", "4"};
  m[2].tool_call_ids = {"+2"};  // Rust's usize::from_str takes a '+'
  EXPECT_EQ(NextToolCallId(m, random), "5");
  m[2].tool_call_ids = {"call_abc"};
  const std::string uuid = NextToolCallId(m, random);
  EXPECT_EQ(uuid, "efcdab89-6745-4301-afcd-ab8967452301");
  m[2].tool_call_ids = {"-1"};
  EXPECT_EQ(NextToolCallId(m, random).size(), 36u);
}

}  // namespace
}  // namespace sg::api::chat_tools_test
