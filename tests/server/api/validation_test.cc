// TGI's validation (API contract §1.5, §3.2-§3.4, §1.13): every message byte for byte, each case
// built to fail its own check AND later ones, so the expected message also proves the order.
#include "server/api/validation.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "server/api/api_error.h"
#include "server/api/tgi_request.h"

namespace sg::api {
namespace {

const std::string kModel = std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf";
const std::string kP = "Input validation error: ";
// 30 tokens with the demo tokenizer (BOS included); "hi" is 2.
const std::string kLong = "a b c d e f g h i j k l m n o p q r s t u v w x y z";

class ValidationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = Tokenizer::Load(kModel);
    ASSERT_TRUE(t.ok());
    tokenizer_ = std::move(*t).release();
  }
  static void TearDownTestSuite() { delete tokenizer_; }

  std::variant<ValidRequest, ApiError> Validate(std::string_view body,
                                                ValidateOptions options = {}) {
    auto parsed = ParseGenerateRequest(body, GenerateShape::kGenerate);
    if (auto* e = std::get_if<BodyError>(&parsed)) {
      ADD_FAILURE() << body << ": " << e->message;
      return ApiError{};
    }
    return ValidateGenerate(std::get<GenerateRequest>(parsed), *tokenizer_, limits_, options,
                            [this] {
                              ++seeds_drawn_;
                              return uint64_t{42};
                            });
  }
  std::string Error(std::string_view body, bool streaming = false) {
    auto v = Validate(body, ValidateOptions{streaming, false});
    if (auto* e = std::get_if<ApiError>(&v)) {
      EXPECT_EQ(e->status, 422);
      EXPECT_EQ(e->error_type, "validation");
      return e->error;
    }
    return "";
  }
  ValidRequest Valid(std::string_view body, ValidateOptions options = {}) {
    auto v = Validate(body, options);
    if (auto* e = std::get_if<ApiError>(&v)) {
      ADD_FAILURE() << body << ": " << e->error;
      return {};
    }
    return std::get<ValidRequest>(v);
  }
  int64_t Tokens(std::string_view text) {
    return static_cast<int64_t>(tokenizer_->Encode(text, true).ids.size());
  }

  static Tokenizer* tokenizer_;
  // max_best_of, max_stop_sequences, max_top_n_tokens, max_input_tokens, max_total_tokens.
  ValidationLimits limits_{2, 4, 5, 20, 32, false, 4};
  int seeds_drawn_ = 0;
};
Tokenizer* ValidationTest::tokenizer_ = nullptr;

TEST_F(ValidationTest, TokenCountsTheCasesRelyOn) {
  EXPECT_EQ(Tokens("hi"), 2);
  EXPECT_EQ(Tokens(kLong), 30);
}

TEST_F(ValidationTest, EveryMessageInTgiOrder) {
  const std::string five_stops = R"("stop":["a","b","c","d","e"])";
  const std::string late =  // fails truncate, the budget, grammar and watermark too
      R"("truncate":0,"grammar":{"type":"regex","value":"a"},"watermark":true)";
  const struct {
    std::string body;
    std::string message;
  } cases[] = {
      {R"({"inputs":"","parameters":{"best_of":2,"repetition_penalty":0,"frequency_penalty":3,)"
       R"("max_new_tokens":0,"seed":1,"top_n_tokens":9,)" +
           five_stops + "," + late + "}}",
       "you must use sampling when `best_of` is > 1"},
      {R"({"inputs":"","parameters":{"best_of":2,"temperature":0,"repetition_penalty":0,)"
       R"("frequency_penalty":3,"top_p":1.0,"typical_p":1.0,"top_k":0,"max_new_tokens":0,)"
       R"("seed":1,"top_n_tokens":9,)" +
           five_stops + "," + late + "}}",
       "`temperature` must be strictly positive"},
      {R"({"inputs":"","parameters":{"temperature":-1e39,"repetition_penalty":-1e39}})",
       "`temperature` must be strictly positive"},
      {R"({"inputs":"","parameters":{"repetition_penalty":0,"frequency_penalty":3,"top_p":1.0,)"
       R"("typical_p":1.0,"top_k":0,"max_new_tokens":0,)" +
           five_stops + "," + late + "}}",
       "`repetition_penalty` must be strictly positive"},
      {R"({"inputs":"","parameters":{"frequency_penalty":-2.5,"top_p":0,"typical_p":0,"top_k":0,)"
       R"("max_new_tokens":0,)" +
           five_stops + "," + late + "}}",
       "`frequency_penalty` must be >= -2.0 and <= 2.0"},
      {R"({"inputs":"","parameters":{"frequency_penalty":2.0,"top_p":1.0,"typical_p":0,)"
       R"("top_k":0,"max_new_tokens":0,)" +
           five_stops + "," + late + "}}",
       "`top_p` must be > 0.0 and < 1.0"},
      {R"({"inputs":"","parameters":{"top_p":0,"typical_p":0}})",
       "`top_p` must be > 0.0 and < 1.0"},
      {R"({"inputs":"","parameters":{"top_p":0.99,"typical_p":1.0,"top_k":0,"max_new_tokens":0,)" +
           five_stops + "," + late + "}}",
       "`typical_p` must be > 0.0 and < 1.0"},
      {R"({"inputs":"","parameters":{"top_k":0,"max_new_tokens":0,)" + five_stops + "," + late +
           "}}",
       "`top_k` must be strictly positive"},
      {R"({"inputs":"","parameters":{"top_k":-5}})", "`top_k` must be strictly positive"},
      {R"({"inputs":"","parameters":{"max_new_tokens":0,)" + five_stops + "," + late + "}}",
       "`max_new_tokens` must be strictly positive"},
      {R"({"inputs":"","parameters":{"best_of":2,"do_sample":true,"seed":1,)" + five_stops + "," +
           late + "}}",
       "`stop` supports up to 4 stop sequences. Given: 5"},
      {R"({"inputs":"","parameters":{"best_of":2,"do_sample":true,"seed":1,"top_n_tokens":9,)" +
           late + "}}",
       "`seed` must not be set when `best_of` > 1"},
      {R"({"inputs":"","parameters":{"top_n_tokens":9,)" + late + "}}",
       "`top_n_tokens` must be >= 0 and <= 5. Given: 9"},
      {R"({"inputs":"","parameters":{)" + late + "}}", "`inputs` cannot be empty"},
      {R"({"inputs":"hi","parameters":{)" + late + "}}",
       "`truncate` must be strictly positive and less than 20. Given: 0"},
      {R"({"inputs":"hi","parameters":{"truncate":21}})",
       "`truncate` must be strictly positive and less than 20. Given: 21"},
      {R"({"inputs":")" + kLong +
           R"(","parameters":{"max_new_tokens":5,"grammar":{"type":"regex","value":"a"},)"
           R"("watermark":true}})",
       "`inputs` tokens + `max_new_tokens` must be <= 32. Given: 30 `inputs` tokens and 5 "
       "`max_new_tokens`"},
      {R"({"inputs":")" + kLong + R"(","parameters":{"max_new_tokens":2,"watermark":true}})",
       "`inputs` must have less than 20 tokens. Given: 30"},
      {R"({"inputs":")" + kLong + R"("})", "`inputs` must have less than 20 tokens. Given: 30"},
      {R"({"inputs":"hi","parameters":{"grammar":{"type":"regex","value":"a"},)"
       R"("watermark":true}})",
       "grammar is not supported"},
      {R"({"inputs":"hi","parameters":{"watermark":true}})", "`watermark` is not supported"},
      {R"({"inputs":"hi","parameters":{"best_of":3,"temperature":0}})",  // before §3.2's list
       "`best_of` must be > 0 and <= 2. Given: 3"},
  };
  for (const auto& c : cases) EXPECT_EQ(Error(c.body), kP + c.message) << c.body;
}

TEST_F(ValidationTest, NullMaxNewTokensUsesTheWholeBudget) {
  // 30 input tokens, total 32: the automatic value is 2; past the budget it is 0 (and fails).
  limits_.max_input_tokens = 31;
  EXPECT_EQ(Valid(R"({"inputs":")" + kLong + R"("})").engine.stopping.max_new_tokens, 2);
  limits_.max_total_tokens = 29;
  limits_.max_input_tokens = 28;
  EXPECT_EQ(Error(R"({"inputs":")" + kLong + R"("})"),
            kP + "`inputs` tokens + `max_new_tokens` must be <= 29. Given: 30 `inputs` tokens "
                 "and 0 `max_new_tokens`");
}

TEST_F(ValidationTest, TheBudgetCheckUsesTheValueCappedAt1024) {
  limits_.max_input_tokens = 1000;
  limits_.max_total_tokens = 1024;
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"max_new_tokens":5000}})"),
            kP + "`inputs` tokens + `max_new_tokens` must be <= 1024. Given: 2 `inputs` tokens "
                 "and 1024 `max_new_tokens`");
  // Accepted when input + min(value, 1024) fits; generation is clamped to the budget.
  limits_.max_total_tokens = 1500;
  const ValidRequest v = Valid(R"({"inputs":"hi","parameters":{"max_new_tokens":1499}})");
  EXPECT_EQ(v.engine.stopping.max_new_tokens, 1498);
  EXPECT_EQ(v.max_new_tokens_chunk, 1024);
  const ValidRequest small = Valid(R"({"inputs":"hi","parameters":{"max_new_tokens":7}})");
  EXPECT_EQ(small.engine.stopping.max_new_tokens, 7);
  EXPECT_EQ(small.max_new_tokens_chunk, 7);
}

TEST_F(ValidationTest, InputLengthEqualToTheLimitIsAllowed) {
  limits_.max_input_tokens = 30;
  limits_.max_total_tokens = 31;
  EXPECT_EQ(Valid(R"({"inputs":")" + kLong + R"("})").input_length, 30);
}

TEST_F(ValidationTest, StreamOnlyChecksComeFirst) {
  EXPECT_EQ(Error(R"({"inputs":"","parameters":{"best_of":2,"decoder_input_details":true,)"
                  R"("temperature":0}})",
                  true),
            kP + "`best_of` != 1 is not supported when streaming tokens");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"best_of":0}})", true),
            kP + "`best_of` != 1 is not supported when streaming tokens");
  EXPECT_EQ(Error(R"({"inputs":"","parameters":{"decoder_input_details":true}})", true),
            kP + "`decoder_input_details` == true is not supported when streaming tokens");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"best_of":1}})", true), "");
  // best_of 0 runs one sequence on /generate.
  EXPECT_EQ(Valid(R"({"inputs":"hi","parameters":{"best_of":0}})").best_of, 1);
  EXPECT_EQ(Valid(R"({"inputs":"hi","parameters":{"best_of":2,"do_sample":true}})").best_of, 2);
  limits_.max_best_of = 1;
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"best_of":2,"do_sample":true}})"),
            kP + "`best_of` != 1 is not allowed for this endpoint");
}

TEST_F(ValidationTest, SamplingIsResolvedAsTheBackendDoesAndSeedsDrawnOnlyWhenSampling) {
  const ValidRequest greedy = Valid(R"({"inputs":"hi","parameters":{"seed":5}})");
  EXPECT_FALSE(greedy.engine.sampling.do_sample);
  EXPECT_EQ(seeds_drawn_, 0);
  EXPECT_FALSE(
      Valid(R"({"inputs":"hi","parameters":{"temperature":1.0}})").engine.sampling.do_sample);
  for (const char* p : {R"("temperature":0.5)", R"("top_k":5)", R"("top_p":0.9)",
                        R"("typical_p":0.9)", R"("do_sample":true)"}) {
    const ValidRequest v =
        Valid(std::string(R"({"inputs":"hi","parameters":{"seed":9,)") + p + "}}");
    EXPECT_TRUE(v.engine.sampling.do_sample) << p;
    EXPECT_EQ(v.engine.sampling.seed, 9u);
  }
  EXPECT_EQ(seeds_drawn_, 0);
  const ValidRequest absent = Valid(R"({"inputs":"hi"})");  // no parameters: do_sample true
  EXPECT_TRUE(absent.engine.sampling.do_sample);
  EXPECT_EQ(absent.engine.sampling.seed, 42u);
  EXPECT_EQ(seeds_drawn_, 1);
  EXPECT_FALSE(Valid(R"({"inputs":"hi","parameters":{}})").engine.sampling.do_sample);
}

TEST_F(ValidationTest, FillsTheEngineRequestAndResponseFlags) {
  const ValidRequest v = Valid(
      R"({"inputs":"hi","parameters":{"temperature":0.7,"top_k":3,"top_p":0.8,"typical_p":0.6,)"
      R"("repetition_penalty":1.2,"frequency_penalty":0.3,"max_new_tokens":4,"stop":["x","y"],)"
      R"("top_n_tokens":2,"decoder_input_details":true,"seed":11,"adapter_id":"lora"}})");
  const SamplingParams& s = v.engine.sampling;
  EXPECT_EQ(s.temperature, 0.7f);
  EXPECT_EQ(s.top_k, 3);
  EXPECT_EQ(s.top_p, 0.8f);
  EXPECT_EQ(s.typical_p, 0.6f);
  EXPECT_EQ(s.repetition_penalty, 1.2f);
  EXPECT_EQ(s.frequency_penalty, 0.3f);
  EXPECT_EQ(s.seed, 11u);
  EXPECT_EQ(v.engine.stopping.max_new_tokens, 4);
  EXPECT_EQ(v.engine.stopping.stop_sequences, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(v.engine.top_n_tokens, 2);
  EXPECT_EQ(v.top_n_tokens, 2);
  EXPECT_TRUE(v.details);  // decoder_input_details turns details on
  EXPECT_TRUE(v.decoder_input_details);
  EXPECT_FALSE(v.engine.prefill_logprobs);  // needs --enable-prefill-logprobs
  EXPECT_EQ(v.inputs, "hi");
  EXPECT_EQ(v.input_length, 2);
  EXPECT_EQ(v.engine.prompt_ids, tokenizer_->Encode("hi", true).ids);
  limits_.enable_prefill_logprobs = true;
  EXPECT_TRUE(Valid(R"({"inputs":"hi","parameters":{"decoder_input_details":true}})")
                  .engine.prefill_logprobs);
}

// The chosen token's logprob is computed only where TGI shows or uses it: every stream event,
// `details` (decoder_input_details sets it), best_of's ranking. A plain answer has only the text.
TEST_F(ValidationTest, TokenLogprobOnlyWhereTheResponseShowsIt) {
  EXPECT_FALSE(Valid(R"({"inputs":"hi"})").engine.token_logprob);
  EXPECT_FALSE(Valid(R"({"inputs":"hi","parameters":{"top_n_tokens":2}})").engine.token_logprob);
  EXPECT_TRUE(Valid(R"({"inputs":"hi","parameters":{"details":true}})").engine.token_logprob);
  EXPECT_TRUE(
      Valid(R"({"inputs":"hi","parameters":{"decoder_input_details":true}})").engine.token_logprob);
  EXPECT_TRUE(
      Valid(R"({"inputs":"hi","parameters":{"best_of":2,"do_sample":true}})").engine.token_logprob);
  EXPECT_TRUE(
      Valid(R"({"inputs":"hi"})", ValidateOptions{/*streaming=*/true, false}).engine.token_logprob);
}

TEST_F(ValidationTest, TruncateKeepsTheLastTokens) {
  const std::vector<int32_t> all = tokenizer_->Encode(kLong, true).ids;
  const ValidRequest v =
      Valid(R"({"inputs":")" + kLong + R"(","parameters":{"truncate":5,"max_new_tokens":2}})");
  EXPECT_EQ(v.input_length, 5);
  EXPECT_EQ(v.engine.prompt_ids, std::vector<int32_t>(all.end() - 5, all.end()));
  EXPECT_EQ(v.inputs, kLong);  // return_full_text prefixes the untruncated string
}

TEST_F(ValidationTest, ReturnFullTextDefaultsPerRoute) {
  EXPECT_FALSE(Valid(R"({"inputs":"hi"})").return_full_text);  // /generate
  EXPECT_TRUE(
      Valid(R"({"inputs":"hi"})", ValidateOptions{false, true}).return_full_text);  // POST /
  EXPECT_FALSE(Valid(R"({"inputs":"hi","parameters":{"return_full_text":false}})",
                     ValidateOptions{false, true})
                   .return_full_text);
  EXPECT_TRUE(Valid(R"({"inputs":"hi","parameters":{"return_full_text":true}})").return_full_text);
}

TEST_F(ValidationTest, CompletionsBecomeNativeRequests) {
  auto parse = [](std::string_view body) {
    return std::get<CompletionRequest>(ParseCompletionRequest(body));
  };
  auto suffix =
      CompletionToGenerate(parse(R"({"prompt":["a","b","c","d","e"],"suffix":""})"), limits_);
  ASSERT_TRUE(std::holds_alternative<ApiError>(suffix));  // suffix is checked first
  EXPECT_EQ(std::get<ApiError>(suffix).error,
            "Suffix is not supported and can be achieved by preprocessing the prompt.");
  EXPECT_EQ(std::get<ApiError>(suffix).error_type, "suffix not supported");
  EXPECT_EQ(std::get<ApiError>(suffix).status, 422);
  auto batch = CompletionToGenerate(parse(R"({"prompt":["a","b","c","d","e"]})"), limits_);
  ASSERT_TRUE(std::holds_alternative<ApiError>(batch));
  EXPECT_EQ(std::get<ApiError>(batch).error,
            "Number of prompts exceeds the maximum allowed batch size of 4");
  EXPECT_EQ(std::get<ApiError>(batch).error_type, "batch size exceeded");

  auto greedy = std::get<std::vector<GenerateRequest>>(CompletionToGenerate(
      parse(R"({"prompt":["a","b"],"temperature":0.0,"max_tokens":3,"seed":4,"stop":["x"]})"),
      limits_));
  ASSERT_EQ(greedy.size(), 2u);
  EXPECT_EQ(greedy[1].inputs, "b");
  EXPECT_FALSE(greedy[0].parameters.do_sample);
  EXPECT_FALSE(greedy[0].parameters.temperature.has_value());
  EXPECT_EQ(greedy[0].parameters.max_new_tokens, 3);
  EXPECT_EQ(greedy[0].parameters.seed, 4u);
  EXPECT_EQ(greedy[0].parameters.stop, std::vector<std::string>{"x"});
  EXPECT_TRUE(greedy[0].parameters.details);
  EXPECT_TRUE(greedy[0].parameters.decoder_input_details);  // non-stream
  auto sampled = std::get<std::vector<GenerateRequest>>(
      CompletionToGenerate(parse(R"({"prompt":"a","stream":true,"temperature":0.5})"), limits_));
  EXPECT_TRUE(sampled[0].parameters.do_sample);
  EXPECT_EQ(sampled[0].parameters.temperature, 0.5f);
  EXPECT_FALSE(sampled[0].parameters.decoder_input_details);  // streams
  auto plain = std::get<std::vector<GenerateRequest>>(
      CompletionToGenerate(parse(R"({"prompt":"a","top_p":1.0})"), limits_));
  EXPECT_TRUE(plain[0].parameters.do_sample);  // null temperature: sampling at 1.0
  auto v = ValidateGenerate(plain[0], *tokenizer_, limits_, ValidateOptions{}, nullptr);
  ASSERT_TRUE(std::holds_alternative<ApiError>(v));
  EXPECT_EQ(std::get<ApiError>(v).error, kP + "`top_p` must be > 0.0 and < 1.0");
}

}  // namespace
}  // namespace sg::api
