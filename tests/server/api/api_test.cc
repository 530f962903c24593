// The TGI API layer: body parsing statuses, validation messages in order, exact JSON bytes.
#include <gtest/gtest.h>

#include <random>

#include "server/api/tgi_json.h"
#include "server/api/tgi_request.h"
#include "server/api/validation.h"

namespace sg::api {
namespace {

const std::string kModel = std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf";

TEST(FormatF32, ShortestRoundTripOfTheFloatAsSerde) {
  EXPECT_EQ(FormatF32(-1.5351562f), "-1.5351562");
  EXPECT_EQ(FormatF32(-0.03414917f), "-0.03414917");
  EXPECT_EQ(FormatF32(0.0f), "0.0");
  EXPECT_EQ(FormatF32(1.0f), "1.0");
  EXPECT_EQ(FormatF32(-2.0f), "-2.0");
  EXPECT_EQ(FormatF32(0.00001234f), "0.00001234");  // ryu: fixed while -6 < exponent <= 0
  EXPECT_EQ(FormatF32(1.234e-7f), "1.234e-7");
  EXPECT_EQ(FormatF32(1e30f), "1e30");
  EXPECT_EQ(FormatF32(123456.0f), "123456.0");
  EXPECT_EQ(FormatF32(std::numeric_limits<float>::quiet_NaN()), "null");
  EXPECT_EQ(FormatF32(-std::numeric_limits<float>::infinity()), "null");
}

TEST(JsonString, EscapesAsSerde) {
  EXPECT_EQ(JsonString("a\"b\\c\n\t\x01/é"), "\"a\\\"b\\\\c\\n\\t\\u0001/é\"");
}

TEST(ParseGenerateRequest, FrameworkErrorStatuses) {
  auto status = [](std::string_view body) {
    auto r = ParseGenerateRequest(body);
    return std::holds_alternative<BodyError>(r) ? std::get<BodyError>(r).status : 200;
  };
  EXPECT_EQ(status(R"({"inputs":"hi"})"), 200);
  EXPECT_EQ(status(R"({"inputs":"hi")"), 400);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":{"temperature":NaN}})"), 400);
  EXPECT_EQ(status(std::string(100000, '[')), 400);
  EXPECT_EQ(status("{\"inputs\":\"\xff\"}"), 400);
  EXPECT_EQ(status(R"({"parameters":{}})"), 422);
  EXPECT_EQ(status(R"({"inputs":1})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":null})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":{"details":null}})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":{"stop":"x"}})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":{"max_new_tokens":-1}})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":{"max_new_tokens":4294967296}})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","parameters":{"max_new_tokens":1.5}})"), 422);
  EXPECT_EQ(status(R"({"inputs":"hi","unknown":[1,2],"parameters":{"seed":null}})"), 200);
  auto r = ParseGenerateRequest(R"({"inputs":"hi","parameters":{"max_new_tokens":-1}})");
  EXPECT_EQ(std::get<BodyError>(r).message,
            "Failed to deserialize the JSON body into the target type: "
            "parameters.max_new_tokens: invalid value: integer `-1`, expected u32");
  // Absent parameters sample; {} is greedy.
  EXPECT_TRUE(
      std::get<GenerateRequest>(ParseGenerateRequest(R"({"inputs":"x"})")).parameters.do_sample);
  EXPECT_FALSE(std::get<GenerateRequest>(ParseGenerateRequest(R"({"inputs":"x","parameters":{}})"))
                   .parameters.do_sample);
}

class ValidationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = Tokenizer::Load(kModel);
    ASSERT_TRUE(t.ok());
    tokenizer_ = std::move(*t).release();
  }
  static void TearDownTestSuite() { delete tokenizer_; }
  std::string Error(std::string_view body, bool streaming = false) {
    auto v = ValidateGenerate(std::get<GenerateRequest>(ParseGenerateRequest(body)), *tokenizer_,
                              limits_, streaming, false, rng_);
    if (auto* e = std::get_if<ApiError>(&v)) return e->error;
    return "";
  }
  static Tokenizer* tokenizer_;
  ValidationLimits limits_{2, 4, 5, 20, 32, false};
  std::mt19937_64 rng_{1};
};
Tokenizer* ValidationTest::tokenizer_ = nullptr;

TEST_F(ValidationTest, MessagesInTgiOrder) {
  const std::string p = "Input validation error: ";
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"best_of":2}})"),
            p + "you must use sampling when `best_of` is > 1");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"best_of":3,"do_sample":true}})"),
            p + "`best_of` must be > 0 and <= 2. Given: 3");
  EXPECT_EQ(Error(R"({"inputs":"","parameters":{"temperature":0,"top_k":0}})"),
            p + "`temperature` must be strictly positive");  // the first failure wins
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"typical_p":1.0}})"),
            p + "`typical_p` must be > 0.0 and < 1.0");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"best_of":2,"do_sample":true,"seed":1}})"),
            p + "`seed` must not be set when `best_of` > 1");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"truncate":21}})"),
            p + "`truncate` must be strictly positive and less than 20. Given: 21");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"max_new_tokens":40}})"),
            p + "`inputs` tokens + `max_new_tokens` must be <= 32. Given: 2 `inputs` tokens and "
                "40 `max_new_tokens`");
  EXPECT_EQ(
      Error(
          R"({"inputs":"a b c d e f g h i j k l m n o p q r s t u v w x y z","parameters":{"max_new_tokens":1}})"),
      p + "`inputs` must have less than 20 tokens. Given: 30");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"watermark":true}})"),
            p + "`watermark` is not supported");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"decoder_input_details":true}})", true),
            p + "`decoder_input_details` == true is not supported when streaming tokens");
  EXPECT_EQ(Error(R"({"inputs":"hi","parameters":{"max_new_tokens":5}})"), "");
}

TEST_F(ValidationTest, ResolvesSamplingSeedAndBudget) {
  auto v = std::get<ValidRequest>(ValidateGenerate(
      std::get<GenerateRequest>(
          ParseGenerateRequest(R"({"inputs":"hi","parameters":{"temperature":0.5}})")),
      *tokenizer_, limits_, false, true, rng_));
  EXPECT_TRUE(v.engine.sampling.do_sample);  // temperature != 1 samples (§3.4)
  EXPECT_TRUE(v.return_full_text);           // POST / default for a local model
  EXPECT_EQ(v.engine.stopping.max_new_tokens, 32 - v.input_length);  // null: up to the budget
}

TEST(ResponseJson, StreamEventBytesAsTheSpec) {
  ValidRequest v;
  v.details = true;
  TokenInfo t{363, " for", -1.5351562f, false};
  EXPECT_EQ(
      StreamTokenJson(1, t, {}, false, nullptr, v),
      R"({"index":1,"token":{"id":363,"text":" for","logprob":-1.5351562,"special":false},"generated_text":null,"details":null})");
  GenerationEnd end;
  end.finish_reason = FinishReason::kEosToken;
  end.generated_tokens = 3;
  end.input_length = 3;
  end.generated_text = " for /";
  TokenInfo eos{2, "</s>", -0.1032f, true};
  EXPECT_EQ(
      StreamTokenJson(3, eos, {}, false, &end, v),
      R"({"index":3,"token":{"id":2,"text":"</s>","logprob":-0.1032,"special":true},"generated_text":" for /","details":{"finish_reason":"eos_token","generated_tokens":3,"seed":null,"input_length":3}})");
  EXPECT_EQ(ErrorJson(OverloadedError()),
            R"({"error":"Model is overloaded","error_type":"overloaded"})");
}

}  // namespace
}  // namespace sg::api
