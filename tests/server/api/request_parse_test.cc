// Request bodies as TGI's axum Json<T> extractor reads them: statuses and plain-text messages.
//
// The golden rows below were produced by the real Rust stack, TGI v3.3.7's request structs
// compiled against serde 1.0.152 / serde_json 1.0.87 / serde_path_to_error 0.1.9 with axum 0.7's
// rejection texts, then normalized to the versions TGI ships (serde_path_to_error >= 0.1.10 prints
// no path when it has only unknown segments; serde >= 1.0.196 writes floats with a decimal point
// and lists variant aliases). Over 9 000 generated and mutated bodies agree with that oracle except
// where those newer versions changed behaviour (see VersionDependentCases).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "server/api/tgi_request.h"

namespace sg::api {
namespace {

enum Target { kGen, kCompat, kCompletion };

struct Golden {
  Target target;
  std::string body;
  int status;
  std::string message;
};

BodyError ErrorOf(Target target, std::string_view body) {
  if (target == kCompletion) {
    auto r = ParseCompletionRequest(body);
    return std::holds_alternative<BodyError>(r) ? std::get<BodyError>(r) : BodyError{200, ""};
  }
  auto r = ParseGenerateRequest(body,
                                target == kGen ? GenerateShape::kGenerate : GenerateShape::kCompat);
  return std::holds_alternative<BodyError>(r) ? std::get<BodyError>(r) : BodyError{200, ""};
}

GenerateRequest Parsed(std::string_view body, GenerateShape shape = GenerateShape::kGenerate) {
  auto r = ParseGenerateRequest(body, shape);
  EXPECT_TRUE(std::holds_alternative<GenerateRequest>(r))
      << body << " -> " << std::get<BodyError>(r).message;
  return std::holds_alternative<GenerateRequest>(r) ? std::get<GenerateRequest>(r)
                                                    : GenerateRequest{};
}

TEST(RequestParse, GoldenErrorsFromTheRustStack) {
  const Golden kRows[] = {
      {kGen, "{\"inputs\":\"hi\"", 400,
       "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 14"},
      {kGen, "{\"inputs\":\"hi\",}", 400,
       "Failed to parse the request body as JSON: trailing comma at line 1 column 16"},
      {kGen, "{\"inputs\":\"hi\"} x", 400,
       "Failed to parse the request body as JSON: trailing characters at line 1 column 17"},
      {kGen, "", 400,
       "Failed to parse the request body as JSON: EOF while parsing a value at line 1 column 0"},
      {kGen, "{\"parameters\":{}}", 422,
       "Failed to deserialize the JSON body into the target type: missing field `inputs` at line 1 "
       "column 17"},
      {kGen, "{\"inputs\":1}", 422,
       "Failed to deserialize the JSON body into the target type: inputs: invalid type: integer "
       "`1`, expected a string at line 1 column 11"},
      {kGen, "{\"inputs\":[1]}", 422,
       "Failed to deserialize the JSON body into the target type: inputs: invalid type: sequence, "
       "expected a string at line 1 column 10"},
      {kGen, "{\"inputs\":\"a\",\"inputs\":\"b\"}", 422,
       "Failed to deserialize the JSON body into the target type: duplicate field `inputs` at line "
       "1 column 22"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":null}", 422,
       "Failed to deserialize the JSON body into the target type: parameters: invalid type: null, "
       "expected struct GenerateParameters at line 1 column 32"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"details\":null}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.details: invalid "
       "type: null, expected a boolean at line 1 column 43"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"stop\":null}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.stop: invalid type: "
       "null, expected a sequence at line 1 column 40"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"stop\":\"x\"}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.stop: invalid type: "
       "string \"x\", expected a sequence at line 1 column 39"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"stop\":[\"a\",1]}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.stop[1]: invalid "
       "type: integer `1`, expected a string at line 1 column 42"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":-1}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
       "invalid value: integer `-1`, expected u32 at line 1 column 48"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":1.5}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
       "invalid type: floating point `1.5`, expected u32 at line 1 column 49"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":4294967296}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
       "invalid value: integer `4294967296`, expected u32 at line 1 column 56"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":-0}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
       "invalid type: floating point `-0.0`, expected u32 at line 1 column 48"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":1e2}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
       "invalid type: floating point `100.0`, expected u32 at line 1 column 49"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"temperature\":1e400}}", 400,
       "Failed to parse the request body as JSON: parameters.temperature: number out of range at "
       "line 1 column 48"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"temperature\":\"0.5\"}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.temperature: invalid "
       "type: string \"0.5\", expected f32 at line 1 column 48"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"temperature\":NaN}}", 400,
       "Failed to parse the request body as JSON: parameters.temperature: expected value at line 1 "
       "column 44"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"seed\":null,\"seed\":3}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters: duplicate field "
       "`seed` at line 1 column 47"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"top_k\":3000000000}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.top_k: invalid value: "
       "integer `3000000000`, expected i32 at line 1 column 47"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"seed\":-1}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.seed: invalid value: "
       "integer `-1`, expected u64 at line 1 column 38"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"grammar\":{\"type\":\"regex\"}}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.grammar: missing "
       "field `value` at line 1 column 55"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"grammar\":{\"type\":\"foo\",\"value\":1}}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.grammar.type: unknown "
       "variant `foo`, expected one of `json`, `json_object`, `regex`, `json_schema` at line 1 "
       "column 52"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"grammar\":{\"type\":\"json_object\"}}}", 422,
       "Failed to deserialize the JSON body into the target type: parameters.grammar: missing "
       "field `value` at line 1 column 61"},
      {kGen,
       "{\"inputs\":\"hi\",\"parameters\":{\"grammar\":{\"type\":\"json_schema\",\"json_schema\":{}"
       "}}}",
       422,
       "Failed to deserialize the JSON body into the target type: parameters.grammar: missing "
       "field `value` at line 1 column 78"},
      {kGen, "{\"inputs\":\"hi\",\"parameters\":{\"grammar\":{\"value\":1,\"type\":\"regex\"}}}",
       422,
       "Failed to deserialize the JSON body into the target type: parameters.grammar: invalid "
       "type: integer `1`, expected a string at line 1 column 65"},
      {kGen,
       "{\"inputs\":\"hi\",\"parameters\":{\"grammar\":{\"type\":\"json_schema\",\"value\":{"
       "\"name\":\"x\"}}}}",
       422,
       "Failed to deserialize the JSON body into the target type: parameters.grammar.value: "
       "missing field `schema` at line 1 column 81"},
      {kGen, "[]", 422,
       "Failed to deserialize the JSON body into the target type: invalid length 0, expected "
       "struct GenerateRequest with 2 elements at line 1 column 2"},
      {kGen, "[\"hi\",{},true]", 400,
       "Failed to parse the request body as JSON: trailing characters at line 1 column 10"},
      {kGen, "\"hi\"", 422,
       "Failed to deserialize the JSON body into the target type: invalid type: string \"hi\", "
       "expected struct GenerateRequest at line 1 column 4"},
      {kGen, "tru", 400,
       "Failed to parse the request body as JSON: EOF while parsing a value at line 1 column 3"},
      {kGen, "{\"inputs\":\"hi\",\"junk\":[1,]}", 400,
       "Failed to parse the request body as JSON: junk: expected value at line 1 column 26"},
      {kGen, "{\"inputs\":\"\\ud800\"}", 400,
       "Failed to parse the request body as JSON: inputs: unexpected end of hex escape at line 1 "
       "column 18"},
      {kGen, "{\"inputs\":\"a\001b\"}", 400,
       "Failed to parse the request body as JSON: inputs: control character (\\u0000-\\u001F) "
       "found while parsing a string at line 1 column 13"},
      {kGen, "{\"inputs\" \"hi\"}", 400,
       "Failed to parse the request body as JSON: expected `:` at line 1 column 11"},
      {kGen, "{\n  \"inputs\": \"hi\",\n  \"parameters\": {\n    \"max_new_tokens\": -1\n  }\n}",
       422,
       "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
       "invalid value: integer `-1`, expected u32 at line 4 column 24"},
      {kCompat, "{\"inputs\":\"hi\",\"stream\":null}", 422,
       "Failed to deserialize the JSON body into the target type: stream: invalid type: null, "
       "expected a boolean at line 1 column 28"},
      {kCompat, "{\"inputs\":\"hi\",\"stream\":1}", 422,
       "Failed to deserialize the JSON body into the target type: stream: invalid type: integer "
       "`1`, expected a boolean at line 1 column 25"},
      {kCompat, "[]", 422,
       "Failed to deserialize the JSON body into the target type: invalid length 0, expected "
       "struct CompatGenerateRequest with 3 elements at line 1 column 2"},
      {kCompletion, "{\"prompt\":[]}", 422,
       "Failed to deserialize the JSON body into the target type: prompt: Empty array detected. Do "
       "not use an empty array for the prompt. at line 1 column 13"},
      {kCompletion, "{\"prompt\":[1]}", 422,
       "Failed to deserialize the JSON body into the target type: prompt: data did not match any "
       "variant of untagged enum PromptDeserializer at line 1 column 14"},
      {kCompletion, "{\"prompt\":1,\"max_tokens\":-1}", 422,
       "Failed to deserialize the JSON body into the target type: prompt: data did not match any "
       "variant of untagged enum PromptDeserializer at line 1 column 11"},
      {kCompletion, "{}", 422,
       "Failed to deserialize the JSON body into the target type: missing field `prompt` at line 1 "
       "column 2"},
      {kCompletion, "{\"prompt\":\"hi\",\"stop\":\"x\"}", 422,
       "Failed to deserialize the JSON body into the target type: stop: invalid type: string "
       "\"x\", expected a sequence at line 1 column 25"},
      {kCompletion, "{\"prompt\":\"hi\",\"stream\":null}", 422,
       "Failed to deserialize the JSON body into the target type: stream: invalid type: null, "
       "expected a boolean at line 1 column 28"},
      {kCompletion, "{\"prompt\":\"hi\",\"suffix\":1}", 422,
       "Failed to deserialize the JSON body into the target type: suffix: invalid type: integer "
       "`1`, expected a string at line 1 column 25"},
      {kCompletion, "{\"prompt\":[\"a\",[1e400]]}", 400,
       "Failed to parse the request body as JSON: prompt[1][0]: number out of range at line 1 "
       "column 21"},
      {kCompletion, "[null]", 422,
       "Failed to deserialize the JSON body into the target type: invalid length 1, expected "
       "struct CompletionRequest with 11 elements at line 1 column 6"},
      {kCompletion, "[null,\"hi\"]", 422,
       "Failed to deserialize the JSON body into the target type: invalid length 6, expected "
       "struct CompletionRequest with 11 elements at line 1 column 11"},
      {kCompletion, "{\"prompt\":[], \"x\":1}", 422,
       "Failed to deserialize the JSON body into the target type: prompt: Empty array detected. Do "
       "not use an empty array for the prompt. at line 1 column 12"},
  };
  for (const Golden& g : kRows) {
    const BodyError e = ErrorOf(g.target, g.body);
    EXPECT_EQ(e.status, g.status) << g.body;
    EXPECT_EQ(e.message, g.message) << g.body;
  }
}

// Where serde 1.0.219 / serde_json 1.0.140 (TGI's) differ from the Debian versions above.
TEST(RequestParse, VersionDependentCases) {
  // serde >= 1.0.180 reads an adjacently tagged enum's tag through deserialize_enum: a number
  // there is serde_json's syntax error "expected value".
  EXPECT_EQ(
      ErrorOf(kGen, R"({"inputs":"hi","parameters":{"grammar":{"type":1,"value":1}}})").message,
      "Failed to parse the request body as JSON: parameters.grammar.type: expected value at "
      "line 1 column 48");
  // serde_json >= 1.0.1xx consumes all four hex digits before refusing them.
  EXPECT_EQ(ErrorOf(kGen, R"({"inputs":"hi","junk":"\u12"})").message,
            "Failed to parse the request body as JSON: junk: invalid escape at line 1 column 29");
}

TEST(RequestParse, ParametersAbsentSamplesPresentIsGreedy) {
  const GenerateRequest absent = Parsed(R"({"inputs":"x"})");
  EXPECT_FALSE(absent.has_parameters);
  EXPECT_TRUE(absent.parameters.do_sample);  // TGI's default_parameters() (§10.1)
  const GenerateRequest empty = Parsed(R"({"inputs":"x","parameters":{}})");
  EXPECT_TRUE(empty.has_parameters);
  EXPECT_FALSE(empty.parameters.do_sample);
  EXPECT_FALSE(empty.parameters.details);  // the OpenAPI document's "true" is wrong (§1.4)
  EXPECT_FALSE(empty.parameters.max_new_tokens.has_value());
}

TEST(RequestParse, FieldsNullsAndUnknownKeys) {
  const GenerateRequest r = Parsed(
      R"({"inputs":"a\nb \u00e9\ud83d\ude00","unknown":[1,{"deep":[null]}],"parameters":{
        "best_of":1,"temperature":0.5,"repetition_penalty":1,"frequency_penalty":-0.1,
        "top_k":-3,"top_p":0.9,"typical_p":null,"do_sample":true,"max_new_tokens":7,
        "return_full_text":null,"stop":["\n","x"],"truncate":5,"watermark":false,
        "details":true,"decoder_input_details":false,"seed":18446744073709551615,
        "top_n_tokens":2,"grammar":null,"adapter_id":"lora","extra":1}})");
  EXPECT_EQ(r.inputs, "a\nb \xC3\xA9\xF0\x9F\x98\x80");
  const GenerateParameters& p = r.parameters;
  EXPECT_EQ(p.best_of, 1u);
  EXPECT_EQ(p.temperature, 0.5f);
  EXPECT_EQ(p.repetition_penalty, 1.0f);
  EXPECT_EQ(p.frequency_penalty, -0.1f);
  EXPECT_EQ(p.top_k, -3);  // i32: validation refuses it, not the parser
  EXPECT_FALSE(p.typical_p.has_value());
  EXPECT_TRUE(p.do_sample);
  EXPECT_EQ(p.max_new_tokens, 7);
  EXPECT_FALSE(p.return_full_text.has_value());
  EXPECT_EQ(p.stop, (std::vector<std::string>{"\n", "x"}));
  EXPECT_EQ(p.truncate, 5u);
  EXPECT_TRUE(p.details);
  EXPECT_EQ(p.seed, 18446744073709551615u);
  EXPECT_EQ(p.top_n_tokens, 2);
  EXPECT_FALSE(p.has_grammar);
  EXPECT_EQ(p.adapter_id, "lora");
}

TEST(RequestParse, StreamIsAFieldOnlyOfTheCompatRoute) {
  // /generate: `stream` is an unknown key, so even null is fine and it is not read.
  EXPECT_FALSE(Parsed(R"({"inputs":"x","stream":null})").stream);
  EXPECT_FALSE(Parsed(R"({"inputs":"x","stream":true})").stream);
  EXPECT_TRUE(Parsed(R"({"inputs":"x","stream":true})", GenerateShape::kCompat).stream);
  // The one-argument form is the compat route's.
  auto r = ParseGenerateRequest(R"({"inputs":"x","stream":true})", GenerateShape::kCompat);
  EXPECT_TRUE(std::get<GenerateRequest>(r).stream);
}

TEST(RequestParse, StructAsArrayAndFloatsForF32) {
  const GenerateRequest r = Parsed(R"(["hi",{"max_new_tokens":3,"temperature":2}])");
  EXPECT_EQ(r.inputs, "hi");
  EXPECT_EQ(r.parameters.max_new_tokens, 3);
  EXPECT_EQ(r.parameters.temperature, 2.0f);              // integers are fine for f32
  EXPECT_TRUE(Parsed(R"(["hi"])").parameters.do_sample);  // parameters defaulted
  // Rust's `as f32`: beyond the f32 range is infinity, not an error (validation decides).
  EXPECT_TRUE(std::isinf(
      *Parsed(R"({"inputs":"x","parameters":{"temperature":1e39}})").parameters.temperature));
}

TEST(RequestParse, GrammarShapes) {
  for (const char* ok : {
           R"({"type":"json","value":{"properties":{}}})",
           R"({"type":"json_object","value":"{}"})",
           R"({"type":"regex","value":"a+"})",
           R"({"value":"a+","type":"regex"})",
           R"({"type":"json_schema","value":{"schema":{}},"other":[1]})",
           R"(["regex","a+"])",
       }) {
    const GenerateRequest r =
        Parsed(std::string(R"({"inputs":"x","parameters":{"grammar":)") + ok + "}}");
    EXPECT_TRUE(r.parameters.has_grammar) << ok;
  }
  EXPECT_EQ(Parsed(R"({"inputs":"x","parameters":{"grammar":{"type":"json_object","value":1}}})")
                .parameters.grammar_type,
            "json_object");
}

TEST(RequestParse, InvalidUtf8IsA400LikeAnyJsonSyntaxError) {
  const BodyError e = ErrorOf(kGen, "{\"inputs\":\"\xff\"}");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(
      e.message,
      "Failed to parse the request body as JSON: inputs: invalid unicode code point at line 1 "
      "column 13");
  // serde skips unknown values without checking their UTF-8, and so do we.
  EXPECT_EQ(ErrorOf(kGen, "{\"inputs\":\"x\",\"junk\":\"\xff\"}").status, 200);
  // A UTF-8 byte order mark is not JSON whitespace.
  EXPECT_EQ(ErrorOf(kGen, "\xEF\xBB\xBF{\"inputs\":\"x\"}").message,
            "Failed to parse the request body as JSON: expected value at line 1 column 1");
}

TEST(RequestParse, NestingNeverReachesTheStack) {
  // A 100 000-deep array is a GenerateRequest in sequence form whose `inputs` is not a string.
  EXPECT_EQ(ErrorOf(kGen, std::string(100000, '[')).message,
            "Failed to deserialize the JSON body into the target type: [0]: invalid type: "
            "sequence, expected a string at line 1 column 1");
  // Unknown values are skipped without a depth limit (as serde's IgnoredAny): accepted.
  const std::string deep(5000, '[');
  EXPECT_EQ(ErrorOf(kGen, R"({"inputs":"x","junk":)" + deep + std::string(5000, ']') + "}").status,
            200);
  EXPECT_EQ(ErrorOf(kGen, R"({"inputs":"x","junk":)" + std::string(100000, '[')).message,
            "Failed to parse the request body as JSON: junk: EOF while parsing a list at line 1 "
            "column 100021");
  // Buffered values (grammar, untagged prompts) stop at serde_json's recursion limit: 128 levels.
  const auto grammar = [](int depth) {
    return R"({"inputs":"x","parameters":{"grammar":{"type":"json","value":)" +
           std::string(depth, '[') + std::string(depth, ']') + "}}}";
  };
  EXPECT_EQ(ErrorOf(kGen, grammar(124)).status, 200);  // 3 enclosing levels + 124 = 127
  const BodyError deep_grammar = ErrorOf(kGen, grammar(125));
  EXPECT_EQ(deep_grammar.status, 400);
  EXPECT_NE(deep_grammar.message.find("recursion limit exceeded at line 1 column 186"),
            std::string::npos);
}

TEST(RequestParse, NumbersAtTheEdges) {
  auto error = [](std::string_view number) {
    return ErrorOf(kGen, std::string(R"({"inputs":"x","parameters":{"max_new_tokens":)") +
                             std::string(number) + "}}");
  };
  // Expected texts checked against the Rust stack, as the golden rows above.
  EXPECT_EQ(error("4294967295").status, 200);  // u32::MAX
  EXPECT_EQ(error("4294967296").status, 422);
  EXPECT_EQ(error("18446744073709551616").message,  // beyond u64: serde_json makes it an f64
            "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
            "invalid type: floating point `18446744073709552000.0`, expected u32 at line 1 column "
            "65");
  EXPECT_EQ(error("-9223372036854775809").status, 422);
  EXPECT_EQ(error("1e400").status, 400);  // number out of range
  EXPECT_EQ(error("0e999999999999").message,
            "Failed to deserialize the JSON body into the target type: parameters.max_new_tokens: "
            "invalid type: floating point `0.0`, expected u32 at line 1 column 59");
  EXPECT_EQ(error("01").status, 400);
  EXPECT_EQ(error("1.").status, 400);
  EXPECT_EQ(error("-").status, 400);
}

TEST(CompletionParse, Shapes) {
  auto parsed = [](std::string_view body) {
    auto r = ParseCompletionRequest(body);
    EXPECT_TRUE(std::holds_alternative<CompletionRequest>(r)) << body;
    return std::holds_alternative<CompletionRequest>(r) ? std::get<CompletionRequest>(r)
                                                        : CompletionRequest{};
  };
  EXPECT_EQ(parsed(R"({"prompt":"hi"})").prompts, (std::vector<std::string>{"hi"}));
  const CompletionRequest c = parsed(
      R"({"model":"tgi","prompt":["a","b"],"max_tokens":3,"temperature":0,"top_p":0.9,
          "stream":true,"seed":7,"suffix":null,"repetition_penalty":1.1,
          "frequency_penalty":0.5,"stop":null,"n":3,"logit_bias":{"1":2},"echo":true})");
  EXPECT_EQ(c.prompts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.model, "tgi");
  EXPECT_EQ(c.max_tokens, 3);
  EXPECT_EQ(c.temperature, 0.0f);
  EXPECT_TRUE(c.stream);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_FALSE(c.has_suffix);
  EXPECT_TRUE(c.stop.empty());
  EXPECT_TRUE(parsed(R"({"prompt":"hi","suffix":"x"})").has_suffix);
  EXPECT_EQ(parsed(R"([null,"hi",5,null,null,false,1])").max_tokens, 5);
}

TEST(Invocations, DispatchOnTheBodyShape) {
  auto shape = [](std::string_view body) {
    auto r = ClassifyInvocation(body);
    return std::holds_alternative<InvocationShape>(r)
               ? static_cast<int>(std::get<InvocationShape>(r))
               : -std::get<BodyError>(r).status;
  };
  EXPECT_EQ(shape(R"({"inputs":"x","stream":true})"), static_cast<int>(InvocationShape::kCompat));
  EXPECT_EQ(shape(R"({"messages":[]})"), static_cast<int>(InvocationShape::kChat));
  EXPECT_EQ(shape(R"({"prompt":"x"})"), static_cast<int>(InvocationShape::kCompletion));
  // Not a CompatGenerateRequest (inputs is a number) but a valid completion request.
  EXPECT_EQ(shape(R"({"inputs":1,"prompt":"x"})"), static_cast<int>(InvocationShape::kCompletion));
  EXPECT_EQ(shape(R"({"inputs":"x"} junk)"), -400);  // the whole body is JSON-checked first
  EXPECT_EQ(shape(R"({"input":"x"})"), -422);
  auto none = ClassifyInvocation(R"({"input":"x"})");
  EXPECT_EQ(std::get<BodyError>(none).message,
            "Failed to deserialize the JSON body into the target type: data did not match any "
            "variant of untagged enum SagemakerRequest");
  EXPECT_EQ(InvocationKind(R"({"prompt":["a"]})"), "prompt");
  EXPECT_EQ(InvocationKind("nope"), "");
}

}  // namespace
}  // namespace sg::api
