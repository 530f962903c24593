// The Messages API layer (API contract §9, §2.4, §11.2, §11.3): the request parser (serde-style
// plain-text errors), the template step (TGI's order of tool/template errors, tool injection,
// assistant continuation), the mapping to native parameters with TGI's validation messages byte
// for byte, and the response encoders against the spec's snapshots (created/fingerprint aside).
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "server/api/chat_json.h"
#include "server/api/chat_prompt.h"
#include "server/api/chat_request.h"
#include "server/api/openai_json.h"
#include "server/api/validation.h"

namespace sg::api {
namespace {

const std::string kFp = std::string(STREAMGEN_VERSION) + "-native";
const std::string kInvalid = "Input validation error: ";
const char kChatMl[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] "
    "+ '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<|im_start|>assistant\\n' "
    "}}{% endif %}";

ChatRequest ParsedChat(std::string_view body) {
  auto r = ParseChatRequest(body);
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(r))
      << body << " -> " << std::get<BodyError>(r).message;
  return std::holds_alternative<ChatRequest>(r) ? std::get<ChatRequest>(r) : ChatRequest{};
}

BodyError BodyErrorOf(std::string_view body) {
  auto r = ParseChatRequest(body);
  return std::holds_alternative<BodyError>(r) ? std::get<BodyError>(r) : BodyError{200, ""};
}

TEST(ChatParse, FieldsAndDefaults) {
  ChatRequest c = ParsedChat(R"({"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].role, "user");
  EXPECT_EQ(c.messages[0].content, "hi");
  EXPECT_FALSE(c.stream);
  EXPECT_FALSE(c.logprobs);
  EXPECT_FALSE(c.include_usage);
  EXPECT_EQ(c.tool_choice, ToolChoice::kAuto);
  c = ParsedChat(
      R"({"model":"tgi","messages":[],"stream":true,"stream_options":{"include_usage":true},)"
      R"("logprobs":true,"top_logprobs":2,"max_completion_tokens":7,"stop":["a","b"],"seed":5,)"
      R"("temperature":0.5,"top_p":0.9,"frequency_penalty":0.1,"presence_penalty":0.2,"n":3,)"
      R"("logit_bias":[1.5],"user":"x","parallel_tool_calls":true,"tool_choice":"none"})");
  EXPECT_EQ(*c.model, "tgi");
  EXPECT_TRUE(c.stream);
  EXPECT_TRUE(c.include_usage);
  EXPECT_TRUE(c.logprobs);
  EXPECT_EQ(*c.top_logprobs, 2);
  EXPECT_EQ(*c.max_tokens, 7);
  EXPECT_EQ(c.stop, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*c.seed, 5u);
  EXPECT_EQ(c.tool_choice, ToolChoice::kNone);
  // Our extension: a bare string is one stop sequence.
  EXPECT_EQ(BodyErrorOf(R"({"messages":[],"stop":"x"})").status,
            422);  // a bare string: TGI refuses
  EXPECT_TRUE(ParsedChat(R"({"messages":[],"stop":null})").stop.empty());
}

TEST(ChatParse, MessagesAsTgiConvertsThem) {
  ChatRequest c = ParsedChat(
      R"({"messages":[{"role":"system","content":[{"type":"text","text":"a"},)"
      R"({"type":"image_url","image_url":{"url":"http://x/y.png"}},{"type":"text","text":"b"}]},)"
      R"({"role":"assistant","tool_calls":[{"id":"0","type":"function","function":{"name":"f",)"
      R"("arguments":{"b":1,"a":"x"}}}]},)"
      R"({"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function",)"
      R"("function":{"name":"g","description":"d","arguments":"{\"q\":2}"}}]},)"
      R"({"role":"tool","content":"42","tool_call_id":"0","name":"f"},)"
      R"({"role":"assistant","content":"ok","reasoning_content":"hm","tool_calls":[]}]})");
  ASSERT_EQ(c.messages.size(), 5u);
  EXPECT_EQ(c.messages[0].content, "a![](http://x/y.png)b");  // chunks joined, no separator
  EXPECT_TRUE(c.messages[0].content_body);
  // tool_calls -> their JSON; arguments written as a JSON string (TGI's serialize_as_string).
  EXPECT_EQ(c.messages[1].content,
            R"([{"id":"0","type":"function","function":{"description":null,"name":"f",)"
            R"("arguments":"{\"b\":1,\"a\":\"x\"}"}}])");
  EXPECT_FALSE(c.messages[1].content_body);
  EXPECT_EQ(c.messages[2].content,
            R"([{"id":"1","type":"function","function":{"description":"d","name":"g",)"
            R"("arguments":"\"{\\\"q\\\":2}\""}}])");
  EXPECT_EQ(*c.messages[3].tool_call_id, "0");
  EXPECT_EQ(c.messages[4].content, "ok");  // content wins over tool_calls
  EXPECT_EQ(*c.messages[4].reasoning_content, "hm");
}

TEST(ChatParse, ToolsAndToolChoice) {
  ChatRequest c = ParsedChat(
      R"({"messages":[],"tools":[{"type":"function","function":{"name":"w","parameters":)"
      R"({"type":"object"}}}],"tool_choice":{"type":"function","function":{"name":"w"}}})");
  ASSERT_TRUE(c.tools);
  EXPECT_EQ((*c.tools)[0].name, "w");
  EXPECT_EQ(c.tool_choice, ToolChoice::kFunction);
  EXPECT_EQ(c.tool_choice_name, "w");
  c = ParsedChat(R"({"messages":[],"tool_choice":"get_weather"})");
  EXPECT_EQ(c.tool_choice, ToolChoice::kFunction);
  EXPECT_EQ(c.tool_choice_name, "get_weather");
  EXPECT_EQ(ParsedChat(R"({"messages":[],"tool_choice":"required"})").tool_choice,
            ToolChoice::kRequired);
  EXPECT_EQ(ParsedChat(R"({"messages":[],"tool_choice":null})").tool_choice, ToolChoice::kAuto);
  EXPECT_TRUE(ParsedChat(R"({"messages":[],"response_format":{"type":"json","value":{}}})")
                  .has_response_format);
}

TEST(ChatParse, BodyErrorsArePlainText) {
  const std::string kD = "Failed to deserialize the JSON body into the target type: ";
  struct Row {
    std::string body;
    int status;
    std::string message;
  } rows[] = {
      {"{\"messages\":[]", 400,
       "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 14"},
      {"{}", 422, kD + "missing field `messages` at line 1 column 2"},
      {R"({"messages":[],"stream":null})", 422,
       kD + "stream: invalid type: null, expected a boolean at line 1 column 28"},
      {R"({"messages":[],"stream_options":null})", 422,
       kD + "stream_options: invalid type: null, expected struct StreamOptions at line 1 column "
            "36"},
      {R"({"messages":[],"logit_bias":{"1":-100}})", 422,
       kD + "logit_bias: invalid type: map, expected a sequence at line 1 column 28"},
      {R"({"messages":[],"max_tokens":-1})", 422,
       kD + "max_tokens: invalid value: integer `-1`, expected u32 at line 1 column 30"},
      {R"({"messages":[{"role":"user"}]})", 422,
       kD + "messages[0]: data did not match any variant of untagged enum MessageBody at line 1 "
            "column 28"},
      {R"({"messages":[{"content":"x"}]})", 422,
       kD + "messages[0]: missing field `role` at line 1 column 28"},
      {R"({"messages":[{"role":"user","content":[{"type":"audio"}]}]})", 422,
       kD + "messages[0]: data did not match any variant of untagged enum MessageBody at line 1 "
            "column 57"},
      {R"({"messages":[],"tool_choice":5})", 422,
       kD + "tool_choice: data did not match any variant of untagged enum ToolTypeDeserializer at "
            "line 1 column 30"},
      {R"({"messages":[],"tools":[{"type":"function","function":{"name":"f"}}]})", 422,
       kD + "tools[0]: missing field `arguments` at line 1 column 67"},
  };
  for (const Row& row : rows) {
    const BodyError e = BodyErrorOf(row.body);
    EXPECT_EQ(e.status, row.status) << row.body;
    EXPECT_EQ(e.message, row.message) << row.body;
  }
  // OpenAI's value-less response_format is a 422 too (TGI's GrammarType needs `value`).
  EXPECT_EQ(BodyErrorOf(R"({"messages":[],"response_format":{"type":"json_object"}})").status, 422);
  EXPECT_EQ(BodyErrorOf(R"({"messages":[],"stop":[1]})").status, 422);
}

TEST(ChatParse, InvocationsRecogniseChatBodies) {
  auto shape = ClassifyInvocation(R"({"messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(std::holds_alternative<InvocationShape>(shape));
  EXPECT_EQ(std::get<InvocationShape>(shape), InvocationShape::kChat);
  EXPECT_EQ(InvocationKind(R"({"messages":[{"role":"user"}]})"), "");  // no variant matches
}

class ChatPromptTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChatPrompter> Prompter(std::string tmpl, std::string tool_use = "") {
    ChatTemplateSource s;
    s.default_template = std::move(tmpl);
    s.tool_use_template = std::move(tool_use);
    s.bos_token = "<s>";
    s.eos_token = "</s>";
    s.origin = "test";
    auto p = ChatPrompter::Create(s);
    EXPECT_TRUE(p.ok()) << p.status().message();
    return p.ok() ? std::move(*p) : nullptr;
  }
  std::variant<ChatPrompt, ApiError> Apply(const ChatPrompter& p, std::string_view body) {
    return p.Apply(ParsedChat(body), RenderDate{2024, 7, 26});
  }
  std::string Text(const ChatPrompter& p, std::string_view body) {
    auto r = Apply(p, body);
    if (auto* e = std::get_if<ApiError>(&r)) {
      ADD_FAILURE() << e->error;
      return "";
    }
    return std::get<ChatPrompt>(r).text;
  }
  ApiError Error(const ChatPrompter& p, std::string_view body) {
    auto r = Apply(p, body);
    EXPECT_TRUE(std::holds_alternative<ApiError>(r)) << body;
    return std::holds_alternative<ApiError>(r) ? std::get<ApiError>(r) : ApiError{};
  }
};

TEST_F(ChatPromptTest, RendersChatMlWithGenerationPrompt) {
  auto p = Prompter(kChatMl);
  EXPECT_EQ(Text(*p, R"({"messages":[{"role":"user","content":"hi"}]})"),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST_F(ChatPromptTest, ContinuesAFinalAssistantMessage) {
  auto p = Prompter(kChatMl);
  EXPECT_EQ(Text(*p, R"({"messages":[{"role":"user","content":"hi"},)"
                     R"({"role":"assistant","content":"Hello  "}]})"),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nHello");
}

TEST_F(ChatPromptTest, SpecialTokensAndExtensionsReachTheTemplate) {
  auto p = Prompter(
      "{{ bos_token }}{% for m in messages %}{{ m.role }}={{ m.content }}"
      "{% if m.reasoning_content %}[{{ m.reasoning_content }}]{% endif %}"
      "{% if m.tool_call_id %}#{{ m.tool_call_id }}{% endif %};{% endfor %}"
      // TGI gives the template {role, content} only: reasoning_content and tool_call_id stay out.
      "{{ eos_token }}{{ tools is none }}{% if documents %}{{ documents | length }}{% endif %}");
  EXPECT_EQ(Text(*p, R"({"messages":[{"role":"assistant","content":"a","reasoning_content":"r"},)"
                     R"({"role":"tool","content":"1","tool_call_id":"7"},)"
                     R"({"role":"user","content":"q"}],"documents":[{"t":1},{"t":2}]})"),
            "<s>assistant=a;tool=1;user=q;</s>True2");
}

TEST_F(ChatPromptTest, ErrorsInTgiOrder) {
  auto p = Prompter(kChatMl);
  const char kTools[] =
      R"("tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}])";
  ApiError e =
      Error(*p, std::string(R"({"messages":[],"response_format":{"type":"json","value":{}},)") +
                    kTools + "}");
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(e.error_type, "tool_error");
  EXPECT_EQ(e.error, "Tool error: Grammar and tools are mutually exclusive");
  e = Error(*p, std::string(R"({"messages":[],"tool_choice":"nope",)") + kTools + "}");
  EXPECT_EQ(e.error, "Tool error: Tool with name nope not found");
  EXPECT_EQ(e.error_type, "tool_error");

  ChatTemplateSource none;
  auto empty = ChatPrompter::Create(none);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE((*empty)->has_template());
  e = Error(**empty, R"({"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(e.error_type, "template_error");
  EXPECT_EQ(e.error, "Template error: template not found");

  auto raising = Prompter("{{ raise_exception('Conversation roles must alternate') }}");
  e = Error(*raising, R"({"messages":[]})");
  EXPECT_EQ(e.error,
            "Template error: syntax error: Conversation roles must alternate (in <string>:1)");
  // minijinja names the call's line: the call with that literal message, else the only call.
  auto lines = Prompter(
      "{% if messages %}\n{{ raise_exception('a') }}\n{% else %}\n"
      "{{ raise_exception('b') }}{% endif %}");
  EXPECT_EQ(Error(*lines, R"({"messages":[]})").error,
            "Template error: syntax error: b (in <string>:4)");
  auto dynamic = Prompter("\n{{ raise_exception('role ' + messages[0].role) }}");
  EXPECT_EQ(Error(*dynamic, R"({"messages":[{"role":"x","content":""}]})").error,
            "Template error: syntax error: role x (in <string>:2)");
  auto python = Prompter("{{ messages[0].nope.x }}");
  EXPECT_EQ(Error(*python, R"({"messages":[{"role":"x","content":""}]})").error_type,
            "template_error");
  EXPECT_EQ(e.error_type, "template_error");
}

TEST_F(ChatPromptTest, ToolsInjectedAsTgiDoes) {
  const std::string kReq =
      R"({"messages":[{"role":"user","content":"hi"}],"tool_prompt":"P",)"
      R"("tools":[{"type":"function","function":{"name":"w","parameters":{"type":"object"}}}]})";
  // A template that never names `tools`: the tools' JSON and the prompt go into the last message.
  auto plain = Prompter("{% for m in messages %}{{ m.content }}{% endfor %}");
  auto r = Apply(*plain, kReq);
  ASSERT_TRUE(std::holds_alternative<ChatPrompt>(r));
  EXPECT_TRUE(std::get<ChatPrompt>(r).using_tools);
  EXPECT_EQ(
      std::get<ChatPrompt>(r).text,
      "hi\n---\n"
      R"([{"type":"function","function":{"description":null,"name":"w","arguments":"{\"type\":\"object\"}"}},)"
      R"({"type":"function","function":{"description":"Open ended response with no specific tool selected","name":"no_tool","arguments":"{\"type\":\"object\"}"}}])"
      "\nP");
  // A template that reads `tools` gets them (no_tool included) and only the prompt is appended.
  auto reads = Prompter(
      "{% if tools %}{% for t in tools %}{{ t.function.name }},{% endfor %}{% endif %}"
      "{% for m in messages %}{{ m.content }}{% endfor %}");
  EXPECT_EQ(Text(*reads, kReq), "w,no_tool,hi\n---\nP");
  // tool_choice none: no tools at all; required with an empty list: none either.
  EXPECT_EQ(
      Text(*reads, R"({"messages":[{"role":"user","content":"hi"}],"tool_choice":"none",)"
                   R"("tools":[{"type":"function","function":{"name":"w","arguments":{}}}]})"),
      "hi");
  EXPECT_FALSE(std::get<ChatPrompt>(Apply(*reads, R"({"messages":[],"tool_choice":"required",)"
                                                  R"("tools":[]})"))
                   .using_tools);
  // The default tool prompt when tool_prompt is empty.
  EXPECT_EQ(Text(*reads, R"({"messages":[{"role":"user","content":"hi"}],"tool_prompt":"",)"
                         R"("tool_choice":"required","tools":[{"type":"function",)"
                         R"("function":{"name":"w","arguments":{}}}]})"),
            std::string("w,hi\n---\n") + kDefaultToolPrompt);
  // A model's tool_use template is never selected, tools or not (TGI, spec 9.2).
  auto both = Prompter("default", "tool_use");
  EXPECT_EQ(Text(*both, kReq), "default");
  EXPECT_EQ(Text(*both, R"({"messages":[]})"), "default");
}

TEST_F(ChatPromptTest, CompileErrorsNameTheOrigin) {
  ChatTemplateSource s;
  s.default_template = "{% for %}";
  s.origin = "x/tokenizer_config.json";
  auto p = ChatPrompter::Create(s);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("x/tokenizer_config.json"), std::string::npos)
      << p.status().message();
}

// Mapping to native parameters, then TGI's validation messages byte for byte.
class ChatValidationTest : public ChatPromptTest {
 protected:
  static void SetUpTestSuite() {
    auto t = Tokenizer::Load(std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf");
    ASSERT_TRUE(t.ok());
    tokenizer_ = std::move(*t).release();
  }
  static void TearDownTestSuite() { delete tokenizer_; }
  std::variant<ValidRequest, ApiError> Validate(std::string_view body, std::string tmpl = kChatMl) {
    auto p = Prompter(tmpl);
    ChatRequest c = ParsedChat(body);
    auto prompt = p->Apply(c);
    if (auto* e = std::get_if<ApiError>(&prompt)) return *e;
    ValidateOptions o;
    o.streaming = c.stream;
    o.add_special_tokens = false;
    return ValidateGenerate(ChatToGenerate(c, std::get<ChatPrompt>(prompt)), *tokenizer_, limits_,
                            o, [] { return uint64_t{42}; });
  }
  std::string Error(std::string_view body, std::string tmpl = kChatMl) {
    auto v = Validate(body, std::move(tmpl));
    if (auto* e = std::get_if<ApiError>(&v)) {
      EXPECT_EQ(e->status, 422);
      return e->error;
    }
    return "";
  }
  static inline Tokenizer* tokenizer_ = nullptr;
  ValidationLimits limits_ = [] {
    ValidationLimits l;
    l.max_input_tokens = 1023;
    l.max_total_tokens = 1024;
    return l;
  }();
};

TEST_F(ChatValidationTest, Mapping) {
  const std::string m = R"("messages":[{"role":"user","content":"hi"}])";
  ValidRequest v = std::get<ValidRequest>(Validate("{" + m + R"(,"temperature":0.0,"seed":3})"));
  EXPECT_FALSE(v.engine.sampling.do_sample);  // exactly 0 = greedy
  EXPECT_TRUE(v.details);
  v = std::get<ValidRequest>(Validate("{" + m + R"(,"presence_penalty":0.5,"top_logprobs":2})"));
  EXPECT_TRUE(v.engine.sampling.do_sample);  // null temperature = plain sampling
  EXPECT_EQ(v.engine.sampling.seed, 42u);
  EXPECT_FLOAT_EQ(v.engine.sampling.repetition_penalty, 2.5f);
  EXPECT_EQ(v.top_n_tokens, 2);
  v = std::get<ValidRequest>(Validate("{" + m + R"(,"max_tokens":5,"stop":["x"]})"));
  EXPECT_EQ(v.engine.stopping.max_new_tokens, 5);
  EXPECT_EQ(v.engine.stopping.stop_sequences, (std::vector<std::string>{"x"}));
  // No BOS added: the prompt is counted as the template wrote it.
  const std::string prompt = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n";
  EXPECT_EQ(v.engine.prompt_ids, tokenizer_->Encode(prompt, false).ids);
  EXPECT_EQ(v.input_length, static_cast<int32_t>(tokenizer_->Encode(prompt, false).ids.size()));
  EXPECT_EQ(v.inputs, prompt);
}

TEST_F(ChatValidationTest, MessagesByteForByte) {
  const std::string m = R"({"messages":[{"role":"user","content":"hi"}],)";
  EXPECT_EQ(Error(m + R"("temperature":-1})"),
            kInvalid + "`temperature` must be strictly positive");
  EXPECT_EQ(Error(m + R"("presence_penalty":-2})"),
            kInvalid + "`repetition_penalty` must be strictly positive");
  EXPECT_EQ(Error(m + R"("frequency_penalty":2.5})"),
            kInvalid + "`frequency_penalty` must be >= -2.0 and <= 2.0");
  EXPECT_EQ(Error(m + R"("top_p":1.0})"), kInvalid + "`top_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(Error(m + R"("max_tokens":0})"),
            kInvalid + "`max_new_tokens` must be strictly positive");
  EXPECT_EQ(Error(m + R"("stop":["a","b","c","d","e"]})"),
            kInvalid + "`stop` supports up to 4 stop sequences. Given: 5");
  EXPECT_EQ(Error(m + R"("top_logprobs":6})"),
            kInvalid + "`top_n_tokens` must be >= 0 and <= 5. Given: 6");
  // The reported max_new_tokens is the value capped at 1024, not the one sent.
  const int64_t n = static_cast<int64_t>(
      tokenizer_->Encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n", false)
          .ids.size());
  EXPECT_EQ(Error(m + R"("max_tokens":5000})"),
            kInvalid + "`inputs` tokens + `max_new_tokens` must be <= 1024. Given: " +
                std::to_string(n) + " `inputs` tokens and 1024 `max_new_tokens`");
  limits_.max_input_tokens = 10;
  EXPECT_EQ(Error(m + R"("max_tokens":1})"),
            kInvalid + "`inputs` must have less than 10 tokens. Given: " + std::to_string(n));
  limits_.max_input_tokens = 1023;
  EXPECT_EQ(Error(R"({"messages":[{"role":"user","content":""}]})",
                  "{% for m in messages %}{{ m.content }}{% endfor %}"),
            kInvalid + "`inputs` cannot be empty");
  // Without a grammar cache (--disable-grammar-support), tools and response_format are refused.
  EXPECT_EQ(Error(m + R"("response_format":{"type":"json","value":{}}})"),
            kInvalid + "grammar is not supported");
  EXPECT_EQ(Error(m + R"("tools":[{"type":"function","function":{"name":"w","arguments":{}}}]})"),
            kInvalid + "grammar is not supported");
}

// §11.2 in the server's key order (the snapshot's keys are sorted by the snapshot tool).
TEST(ChatJson, NonStreamedSnapshot) {
  GenerationEnd end;
  end.finish_reason = FinishReason::kLength;
  end.generated_tokens = 30;
  end.input_length = 49;
  end.generated_text =
      "Both an elephant and a mouse are mammals. However, the differences between elephants and "
      "mice are:\n\n1";
  EXPECT_EQ(
      ChatCompletionJson(1732541189, "TinyLlama/TinyLlama-1.1B-Chat-v1.0", {}, {}, false, end),
      R"({"object":"chat.completion","id":"","created":1732541189,"model":"TinyLlama/TinyLlama-1.1B-Chat-v1.0","system_fingerprint":")" +
          kFp +
          R"(","choices":[{"index":0,"message":{"role":"assistant","content":"Both an elephant and a mouse are mammals. However, the differences between elephants and mice are:\n\n1"},"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":49,"completion_tokens":30,"total_tokens":79}})");
}

TEST(ChatJson, NonStreamedLogprobsAndFinishReasons) {
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  end.generated_tokens = 2;
  end.input_length = 3;
  end.generated_text = "A";
  const std::vector<TokenInfo> tokens = {{5, "A", -0.5f, false}, {2, "</s>", -0.25f, true}};
  const std::vector<std::vector<TokenInfo>> top = {{{5, "A", -0.5f, false}, {6, "B", -1.5f}},
                                                   {{2, "</s>", -0.25f, true}}};
  EXPECT_EQ(
      ChatCompletionJson(1, "m", tokens, top, true, end),
      R"({"object":"chat.completion","id":"","created":1,"model":"m","system_fingerprint":")" +
          kFp +
          R"(","choices":[{"index":0,"message":{"role":"assistant","content":"A"},"logprobs":{"content":[{"token":"A","logprob":-0.5,"top_logprobs":[{"token":"A","logprob":-0.5},{"token":"B","logprob":-1.5}]},{"token":"</s>","logprob":-0.25,"top_logprobs":[{"token":"</s>","logprob":-0.25}]}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})");
  // Without top_logprobs every entry has []; stop sequences keep their native name.
  end.finish_reason = FinishReason::kStopSequence;
  const std::string body = ChatCompletionJson(1, "m", tokens, {}, true, end);
  EXPECT_NE(body.find(R"({"token":"A","logprob":-0.5,"top_logprobs":[]})"), std::string::npos);
  EXPECT_NE(body.find(R"("finish_reason":"stop_sequence")"), std::string::npos);
}

// §11.3: the first two and the last two chunks.
TEST(ChatJson, StreamSnapshot) {
  const std::string head =
      R"({"object":"chat.completion.chunk","id":"","created":1741975615,"model":"google/gemma-3-4b-it","system_fingerprint":")" +
      kFp + R"(","choices":[{"index":0,"delta":{"role":"assistant","content":)";
  const std::string tail = R"(,"logprobs":null,"finish_reason":null}],"usage":null})";
  EXPECT_EQ(ChatChunkJson(1741975615, "google/gemma-3-4b-it", {1, "{", -0.1f}, {}, false, nullptr),
            head + R"("{"})" + tail);
  EXPECT_EQ(ChatChunkJson(1741975615, "google/gemma-3-4b-it", {2, "\"", -0.1f}, {}, false, nullptr),
            head + R"("\""})" + tail);
  EXPECT_EQ(ChatChunkJson(1741975615, "google/gemma-3-4b-it", {3, "}", -0.1f}, {}, false, nullptr),
            head + R"("}"})" + tail);
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  // The EOS token: content "" and finish_reason "stop".
  EXPECT_EQ(
      ChatChunkJson(1741975615, "google/gemma-3-4b-it", {1, "<eos>", -0.1f, true}, {}, false, &end),
      head + R"(""},"logprobs":null,"finish_reason":"stop"}],"usage":null})");
}

TEST(ChatJson, StreamLogprobsUsageAndTokenize) {
  GenerationEnd end;
  end.finish_reason = FinishReason::kLength;
  EXPECT_EQ(
      ChatChunkJson(9, "m", {4, " x", -1.0f}, {{4, " x", -1.0f}, {7, " y", -2.0f}}, true, &end),
      R"({"object":"chat.completion.chunk","id":"","created":9,"model":"m","system_fingerprint":")" +
          kFp +
          R"(","choices":[{"index":0,"delta":{"role":"assistant","content":" x"},"logprobs":{"content":[{"token":" x","logprob":-1.0,"top_logprobs":[{"token":" x","logprob":-1.0},{"token":" y","logprob":-2.0}]}]},"finish_reason":"length"}],"usage":null})");
  EXPECT_EQ(
      ChatUsageChunkJson(9, "m", 7, 3),
      R"({"object":"chat.completion.chunk","id":"","created":9,"model":"m","system_fingerprint":")" +
          kFp +
          R"(","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}})");
}

}  // namespace
}  // namespace sg::api
