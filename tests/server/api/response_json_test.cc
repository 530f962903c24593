// Response bodies byte for byte: the spec's own examples (§2.2, §11.1 with the real key order),
// absent-vs-null rules (§0, §1.3), errors (§2.3, §2.4, §4), /tokenize, /info, /v1/models and
// /v1/completions (§1.10, §1.12, §1.13, §8), and serde_json's number and string text.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "server/api/tgi_json.h"

namespace sg::api {
namespace {

const std::string kVersion = STREAMGEN_VERSION;

TokenInfo Tok(int32_t id, std::string text, float logprob, bool special = false) {
  return TokenInfo{id, std::move(text), logprob, special};
}

GenerationEnd End(FinishReason reason, int32_t generated, std::string text, int32_t input_length,
                  bool sampled = false, uint64_t seed = 0) {
  GenerationEnd e;
  e.finish_reason = reason;
  e.generated_tokens = generated;
  e.generated_text = std::move(text);
  e.input_length = input_length;
  e.sampled = sampled;
  e.seed = seed;
  return e;
}

// The three `data:` lines of the spec's §2.2 example (details: true).
const char* const kSpecStream[] = {
    R"({"index":1,"token":{"id":363,"text":" for","logprob":-1.5351562,"special":false},"generated_text":null,"details":null})",
    R"({"index":2,"token":{"id":847,"text":" /","logprob":-2.5722656,"special":false},"generated_text":null,"details":null})",
    R"({"index":3,"token":{"id":2,"text":"</s>","logprob":-0.1032,"special":true},"generated_text":" for /","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null,"input_length":3}})",
};

TEST(StreamJson, TheSpecExampleByteForByte) {
  ValidRequest v;
  v.details = true;
  const GenerationEnd end = End(FinishReason::kEosToken, 3, " for /", 3);
  EXPECT_EQ(StreamTokenJson(1, Tok(363, " for", -1.5351562f), {}, false, nullptr, v),
            kSpecStream[0]);
  EXPECT_EQ(StreamTokenJson(2, Tok(847, " /", -2.5722656f), {}, false, nullptr, v), kSpecStream[1]);
  EXPECT_EQ(StreamTokenJson(3, Tok(2, "</s>", -0.1032f, true), {}, false, &end, v), kSpecStream[2]);
}

TEST(StreamJson, TheSpecFileStillSaysSo) {
  std::ifstream spec(std::string(STREAMGEN_SHARED_DIR) + "/spec/tgi-api.md");
  if (!spec) GTEST_SKIP() << "no shared/spec beside the checkout";
  std::stringstream text;
  text << spec.rdbuf();
  for (const char* line : kSpecStream) {
    EXPECT_NE(text.str().find(std::string("data: ") + line), std::string::npos) << line;
  }
}

TEST(StreamJson, TopTokensDetailsSeedAndFullText) {
  ValidRequest v;
  v.inputs = "Hi";
  v.return_full_text = true;
  const GenerationEnd greedy = End(FinishReason::kLength, 1, " there", 2);
  // details not requested: null even on the last event; top_tokens absent when empty.
  EXPECT_EQ(
      StreamTokenJson(1, Tok(5, " there", 0.0f), {}, true, &greedy, v),
      R"({"index":1,"token":{"id":5,"text":" there","logprob":0.0,"special":false},"generated_text":"Hi there","details":null})");
  v.details = true;
  const GenerationEnd sampled = End(FinishReason::kStopSequence, 1, " there", 2, true, 42);
  EXPECT_EQ(
      StreamTokenJson(1, Tok(5, " there", -0.5f), {Tok(5, " there", -0.5f), Tok(6, "!", -1.0f)},
                      true, &sampled, v),
      R"({"index":1,"token":{"id":5,"text":" there","logprob":-0.5,"special":false},"top_tokens":[{"id":5,"text":" there","logprob":-0.5,"special":false},{"id":6,"text":"!","logprob":-1.0,"special":false}],"generated_text":"Hi there","details":{"finish_reason":"stop_sequence","generated_tokens":1,"seed":42,"input_length":2}})");
  // A filtered token's logprob is -inf: null.
  EXPECT_EQ(
      StreamTokenJson(2, Tok(7, "x", -std::numeric_limits<float>::infinity()), {}, false, nullptr,
                      v),
      R"({"index":2,"token":{"id":7,"text":"x","logprob":null,"special":false},"generated_text":null,"details":null})");
}

TEST(GenerateJson, TheSpecSnapshotInTheRealKeyOrder) {
  // §11.1 (test_lora_mistral_with_dbpedia_adapter.json), keys in TGI's declaration order.
  const std::vector<TokenInfo> tokens = {
      Tok(1, "<s>", -0.49658203f, true),    Tok(28705, " ", -0.0016384125f),
      Tok(1, "<s>", -1.4931641f, true),     Tok(28705, " ", -0.00075769424f),
      Tok(28740, "1", -0.25024414f),        Tok(28740, "1", -0.2631836f),
      Tok(2, "</s>", -0.0003285408f, true),
  };
  const std::vector<std::vector<TokenInfo>> no_top;
  const GenerationEnd end = End(FinishReason::kEosToken, 7, "  11", 40);
  ValidRequest v;
  v.details = true;
  EXPECT_EQ(
      GenerateResponseJson({{&tokens, &no_top, &end}}, 0, v),
      R"({"generated_text":"  11","details":{"finish_reason":"eos_token","generated_tokens":7,"seed":null,"prefill":[],"tokens":[{"id":1,"text":"<s>","logprob":-0.49658203,"special":true},{"id":28705,"text":" ","logprob":-0.0016384125,"special":false},{"id":1,"text":"<s>","logprob":-1.4931641,"special":true},{"id":28705,"text":" ","logprob":-0.00075769424,"special":false},{"id":28740,"text":"1","logprob":-0.25024414,"special":false},{"id":28740,"text":"1","logprob":-0.2631836,"special":false},{"id":2,"text":"</s>","logprob":-0.0003285408,"special":true}]}})");
  v.details = false;  // `details` absent, not null
  EXPECT_EQ(GenerateResponseJson({{&tokens, &no_top, &end}}, 0, v), R"({"generated_text":"  11"})");
  EXPECT_EQ(CompatResponseJson(GenerateResponseJson({{&tokens, &no_top, &end}}, 0, v)),
            R"([{"generated_text":"  11"}])");
}

TEST(GenerateJson, BestOfPrefillAndTopTokens) {
  ValidRequest v;
  v.details = true;
  v.inputs = "Q:";
  v.return_full_text = true;
  const std::vector<TokenInfo> a = {Tok(3, "a", -2.0f)}, b = {Tok(4, "b", -0.5f)};
  const std::vector<std::vector<TokenInfo>> top_a = {{Tok(3, "a", -2.0f)}},
                                            top_b = {{Tok(4, "b", -0.5f)}};
  GenerationEnd end_a = End(FinishReason::kLength, 1, "a", 2, true, 11);
  GenerationEnd end_b = End(FinishReason::kLength, 1, "b", 2, true, 12);
  end_b.prefill = {Tok(1, "<s>", std::numeric_limits<float>::quiet_NaN()), Tok(9, "Q:", -3.0f)};
  const std::vector<GeneratedSequence> seqs = {{&a, &top_a, &end_a}, {&b, &top_b, &end_b}};
  const size_t best = BestSequence(seqs);
  EXPECT_EQ(best, 1u);  // the higher mean logprob
  EXPECT_EQ(
      GenerateResponseJson(seqs, best, v),
      R"({"generated_text":"Q:b","details":{"finish_reason":"length","generated_tokens":1,"seed":12,"prefill":[{"id":1,"text":"<s>","logprob":null},{"id":9,"text":"Q:","logprob":-3.0}],"tokens":[{"id":4,"text":"b","logprob":-0.5,"special":false}],"best_of_sequences":[{"generated_text":"Q:a","finish_reason":"length","generated_tokens":1,"seed":11,"prefill":[],"tokens":[{"id":3,"text":"a","logprob":-2.0,"special":false}],"top_tokens":[[{"id":3,"text":"a","logprob":-2.0,"special":false}]]}],"top_tokens":[[{"id":4,"text":"b","logprob":-0.5,"special":false}]]}})");
  // Ties: the first sequence wins.
  EXPECT_EQ(BestSequence({{&a, &top_a, &end_a}, {&a, &top_a, &end_b}}), 0u);
}

TEST(ErrorJson, BodiesStatusesAndStreamForms) {
  EXPECT_EQ(ErrorJson(OverloadedError()),
            R"({"error":"Model is overloaded","error_type":"overloaded"})");
  EXPECT_EQ(OverloadedError().status, 429);
  const ApiError v = ValidationError("`inputs` cannot be empty");
  EXPECT_EQ(
      ErrorJson(v),
      R"({"error":"Input validation error: `inputs` cannot be empty","error_type":"validation"})");
  EXPECT_EQ(v.status, 422);
  const ApiError g = GenerationFailedError("CUDA OOM");
  EXPECT_EQ(g.error, "Request failed during generation: Server error: CUDA OOM");
  EXPECT_EQ(g.status, 424);
  EXPECT_EQ(ErrorJson(IncompleteGenerationError(false)),
            R"({"error":"Incomplete generation","error_type":"incomplete_generation"})");
  EXPECT_EQ(
      ErrorJson(IncompleteGenerationError(true)),
      R"({"error":"Incomplete generation stream","error_type":"incomplete_generation_stream"})");
  EXPECT_EQ(ErrorJson(UnhealthyError()), R"({"error":"unhealthy","error_type":"healthcheck"})");
  EXPECT_EQ(UnhealthyError().status, 503);
  // OpenAI streams always say 422.
  EXPECT_EQ(OpenAiStreamErrorJson(OverloadedError()),
            R"({"error":{"message":"Model is overloaded","http_status_code":422}})");
  for (const char* t : {"validation", "template_error", "tool_error", "suffix not supported",
                        "batch size exceeded"}) {
    EXPECT_EQ(StatusForErrorType(t), 422) << t;
  }
  EXPECT_EQ(StatusForErrorType("overloaded"), 429);
  EXPECT_EQ(StatusForErrorType("generation"), 424);
  EXPECT_EQ(StatusForErrorType("incomplete_generation"), 500);
  EXPECT_EQ(StatusForErrorType("healthcheck"), 503);
}

TEST(TokenizeJson, ByteOffsetsSpecialTokensAndLossyText) {
  auto t = Tokenizer::Load(std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf");
  ASSERT_TRUE(t.ok());
  Encoding e;
  e.ids = {1, 5, 6};
  e.offsets = {{0, 0}, {0, 2}, {2, 8}};
  EXPECT_EQ(
      TokenizeJson(e, "hi there", **t),
      R"([{"id":1,"text":"","start":0,"stop":0},{"id":5,"text":"hi","start":0,"stop":2},{"id":6,"text":" there","start":2,"stop":8}])");
  e.ids = {7, 8};
  e.offsets = {{0, 1}, {1, 2}};  // byte offsets splitting "é": lossy UTF-8 per slice
  EXPECT_EQ(TokenizeJson(e, "\xC3\xA9", **t),
            "[{\"id\":7,\"text\":\"\xEF\xBF\xBD\",\"start\":0,\"stop\":1},"
            "{\"id\":8,\"text\":\"\xEF\xBF\xBD\",\"start\":1,\"stop\":2}]");
  e.offsets.clear();  // no offsets: TGI's slow-tokenizer shape
  EXPECT_EQ(TokenizeJson(e, "x", **t),
            R"([{"id":7,"text":"","start":0,"stop":0},{"id":8,"text":"","start":0,"stop":0}])");
  // With the real tokenizer, the added BOS (if any) is (0,0) and "" and the rest covers "hi".
  const std::string text = "hi";
  const Encoding real = (*t)->Encode(text, true);
  const std::string json = TokenizeJson(real, text, **t);
  EXPECT_EQ(json.front(), '[');
  if (!real.offsets.empty() && real.offsets[0] == std::pair<uint32_t, uint32_t>{0, 0}) {
    EXPECT_EQ(json.rfind("[{\"id\":" + std::to_string(real.ids[0]) +
                             ",\"text\":\"\",\"start\":0,\"stop\":0}",
                         0),
              0u);
  }
}

TEST(InfoJson, FieldsInOrder) {
  EXPECT_EQ(
      InfoJson({"demo", 128, 2, 4, 1023, 1024, 2, 4}),
      R"({"model_id":"demo","model_sha":null,"model_pipeline_tag":null,"max_concurrent_requests":128,"max_best_of":2,"max_stop_sequences":4,"max_input_tokens":1023,"max_total_tokens":1024,"validation_workers":2,"max_client_batch_size":4,"router":"streamgen","version":")" +
          kVersion + R"(","sha":null,"docker_label":null})");
  LoadFields load;
  load.queue_size = 3;
  load.requests_in_flight = 7;
  load.kv_blocks_free = 10;
  load.kv_blocks_total = 64;
  load.kv_blocks_cached = 5;
  load.prefix_caching = true;
  load.drain_per_second = 2.5;
  load.retry_after_s = 1;
  EXPECT_EQ(
      InfoJson({"demo", 128, 2, 4, 1023, 1024, 2, 4, load}),
      R"({"model_id":"demo","model_sha":null,"model_pipeline_tag":null,"max_concurrent_requests":128,"max_best_of":2,"max_stop_sequences":4,"max_input_tokens":1023,"max_total_tokens":1024,"validation_workers":2,"max_client_batch_size":4,"router":"streamgen","version":")" +
          kVersion +
          R"(","sha":null,"docker_label":null,"load":{"queue_size":3,"requests_in_flight":7,"kv_blocks_free":10,"kv_blocks_total":64,"kv_blocks_cached":5,"prefix_caching":true,"drain_per_second":2.5,"retry_after":1}})");
  EXPECT_EQ(
      ModelsJson("models/x"),
      R"({"object":"list","data":[{"id":"models/x","object":"model","created":0,"owned_by":"models/x"}]})");
}

TEST(CompletionJson, ChunksFinalAndBody) {
  const std::string fp = kVersion + "-native";
  EXPECT_EQ(SystemFingerprint(), fp);
  EXPECT_EQ(
      CompletionChunkJson(1741265133, "m", 0, " a", nullptr),
      R"({"object":"text_completion","id":"","created":1741265133,"choices":[{"index":0,"text":" a","logprobs":null,"finish_reason":""}],"model":"m","system_fingerprint":")" +
          fp + R"("})");
  const GenerationEnd eos = End(FinishReason::kEosToken, 2, " a", 3);
  EXPECT_EQ(
      CompletionChunkJson(7, "m", 1, "</s>", &eos),  // raw native name, raw EOS text
      R"({"object":"text_completion","id":"","created":7,"model":"m","system_fingerprint":")" + fp +
          R"(","choices":[{"index":1,"text":"</s>","logprobs":null,"finish_reason":"eos_token"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})");
  const std::vector<CompletionChoice> choices = {
      {1, " b", FinishReason::kLength, 4, 3},  // completion order, not index order
      {0, " a", FinishReason::kEosToken, 3, 2},
      {2, " c", FinishReason::kStopSequence, 1, 1},
  };
  EXPECT_EQ(
      CompletionResponseJson(9, "m", choices),
      R"({"object":"text_completion","id":"","created":9,"model":"m","system_fingerprint":")" + fp +
          R"(","choices":[{"index":1,"text":" b","logprobs":null,"finish_reason":"length"},{"index":0,"text":" a","logprobs":null,"finish_reason":"stop"},{"index":2,"text":" c","logprobs":null,"finish_reason":"stop_sequence"}],"usage":{"prompt_tokens":8,"completion_tokens":6,"total_tokens":14}})");
}

TEST(NumberText, F32AsSerdeJsonWritesIt) {
  // Expected texts are serde_json's (ryu) output for the same f32 values.
  const std::pair<float, const char*> kCases[] = {
      {-1.5351562f, "-1.5351562"},
      {0.0f, "0.0"},
      {-0.0f, "-0.0"},
      {1.0f, "1.0"},
      {-2.0f, "-2.0"},
      {0.00001234f, "0.00001234"},
      {1.234e-7f, "1.234e-7"},
      {1e30f, "1e30"},
      {123456.0f, "123456.0"},
      {-0.03414917f, "-0.03414917"},
      {1e-5f, "0.00001"},
      {1e-6f, "0.000001"},
      {1e-7f, "1e-7"},
      {1e13f, "1e13"},
      {1e12f, "1000000000000.0"},
      {1234567890123.0f, "1234568000000.0"},
      {12345678901234.0f, "1.2345679e13"},
      {1.4e-45f, "1e-45"},
      {3.4028235e38f, "3.4028235e38"},
      {16777217.0f, "16777216.0"},
      {0.1f, "0.1"},
  };
  for (const auto& [v, text] : kCases) EXPECT_EQ(FormatF32(v), text);
  EXPECT_EQ(FormatF32(std::numeric_limits<float>::quiet_NaN()), "null");
  EXPECT_EQ(FormatF32(std::numeric_limits<float>::infinity()), "null");
  EXPECT_EQ(FormatF32(-std::numeric_limits<float>::infinity()), "null");
}

TEST(NumberText, F64AsSerdeJsonWritesIt) {
  // ryu's f64 layout (serde_json's Value::to_string for floats), e.g. tool-call arguments.
  const std::pair<double, const char*> kCases[] = {
      {0.1, "0.1"},
      {100.0, "100.0"},
      {1e15, "1000000000000000.0"},
      {1e16, "1e16"},
      {1.5e17, "1.5e17"},
      {1e-5, "0.00001"},
      {1e-6, "1e-6"},
      {1.5e-7, "1.5e-7"},
      {-21.5, "-21.5"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {0.30000000000000004, "0.30000000000000004"},
      {1.2345678901234567e23, "1.2345678901234567e23"},
  };
  for (const auto& [v, text] : kCases) {
    std::string out;
    AppendF64(out, v);
    EXPECT_EQ(out, text) << v;
  }
}

TEST(NumberText, F64AsRustDisplay) {
  EXPECT_EQ(FormatF64Display(0.0001 * 1.5), "0.00015000000000000001");
  EXPECT_EQ(FormatF64Display(3.0), "3");
  EXPECT_EQ(FormatF64Display(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatF64Display(1e-7), "0.0000001");
  EXPECT_EQ(FormatF64Display(51.150000000000006), "51.150000000000006");
  EXPECT_EQ(FormatF64Display(-0.0), "-0");
  EXPECT_EQ(FormatF64Display(std::nan("")), "NaN");
  EXPECT_EQ(FormatF64Display(-INFINITY), "-inf");
}

TEST(JsonStringText, EscapedAsSerdeJson) {
  EXPECT_EQ(JsonString("a\"b\\c\n\t\x01/\xC3\xA9\x7f\b\f\r"),
            "\"a\\\"b\\\\c\\n\\t\\u0001/\xC3\xA9\x7f\\b\\f\\r\"");
  EXPECT_EQ(JsonString(std::string("\0\x1f", 2)), "\"\\u0000\\u001f\"");
  // Invalid UTF-8 (a Rust String cannot hold it) becomes U+FFFD per maximal subpart.
  EXPECT_EQ(JsonString("a\xff\xC3"), "\"a\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xE2\x82"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

TEST(Utf8, CountsAndValidity) {
  EXPECT_EQ(CountChars("h\xC3\xA9\xF0\x9F\x98\x80"), 3);
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9\xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
}

}  // namespace
}  // namespace sg::api
