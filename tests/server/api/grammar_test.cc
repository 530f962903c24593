// `grammar` on the native routes (API contract §3.2 item 17, §3.8): every message TGI's router
// gives, byte for byte, where the check sits in TGI's order, and what a valid grammar becomes (a
// compiled Grammar on the engine request, shared through the cache). The compiler's own messages
// belong to the engine's tests: here only their prefix and the keyword they name.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

#include "engine/constrain/token_index.h"
#include "engine/text/token_bytes.h"
#include "server/api/grammar_request.h"
#include "server/api/validation.h"

namespace sg::api::grammar_test {
namespace {

const std::string kP = "Input validation error: ";
const std::string kNotValid = kP + "grammar is not valid: ";

class GrammarValidationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = Tokenizer::Load(std::string(STREAMGEN_SOURCE_DIR) + "/models/demo/hf");
    ASSERT_TRUE(t.ok());
    tokenizer_ = std::move(*t).release();
    std::vector<int32_t> eos;
    if (tokenizer_->settings().eos_token_id) eos.push_back(*tokenizer_->settings().eos_token_id);
    cache_ = new GrammarCache(
        std::make_shared<const TokenIndex>(TokenByteStrings(*tokenizer_), std::move(eos)));
  }
  static void TearDownTestSuite() {
    delete cache_;
    delete tokenizer_;
  }

  // `grammar` is the JSON text of the whole grammar object.
  std::variant<ValidRequest, ApiError> Validate(const std::string& grammar,
                                                const std::string& extra = "") {
    const std::string body =
        R"({"inputs":"hi","parameters":{"max_new_tokens":64,"grammar":)" + grammar + extra + "}}";
    auto parsed = ParseGenerateRequest(body, GenerateShape::kGenerate);
    if (auto* e = std::get_if<BodyError>(&parsed)) {
      ADD_FAILURE() << body << ": " << e->message;
      return ApiError{};
    }
    return ValidateGenerate(std::get<GenerateRequest>(parsed), *tokenizer_, limits_, {},
                            [] { return uint64_t{1}; });
  }
  std::string Error(const std::string& grammar, const std::string& extra = "") {
    auto v = Validate(grammar, extra);
    if (auto* e = std::get_if<ApiError>(&v)) {
      EXPECT_EQ(e->status, 422);
      EXPECT_EQ(e->error_type, "validation");
      return e->error;
    }
    ADD_FAILURE() << grammar << " was accepted";
    return "";
  }
  std::shared_ptr<const Grammar> Compiled(const std::string& grammar) {
    auto v = Validate(grammar);
    if (auto* e = std::get_if<ApiError>(&v)) {
      ADD_FAILURE() << grammar << ": " << e->error;
      return nullptr;
    }
    return std::get<ValidRequest>(v).engine.sampling.grammar;
  }

  static inline Tokenizer* tokenizer_ = nullptr;
  static inline GrammarCache* cache_ = nullptr;
  ValidationLimits limits_ = [] {
    ValidationLimits l;
    l.max_input_tokens = 100;
    l.max_total_tokens = 200;
    l.grammars = cache_;
    return l;
  }();
};

TEST_F(GrammarValidationTest, DisabledRefusesEveryGrammar) {
  limits_.grammars = nullptr;  // --disable-grammar-support
  for (const std::string g :
       {R"({"type":"json","value":{"properties":{}}})", R"({"type":"json_object","value":"{}"})",
        R"({"type":"regex","value":"a+"})",
        R"({"type":"json_schema","value":{"schema":{"properties":{}}}})"}) {
    EXPECT_EQ(Error(g), kP + "grammar is not supported") << g;
  }
}

TEST_F(GrammarValidationTest, TgiMessagesByteForByte) {
  const struct {
    std::string grammar, message;
  } cases[] = {
      // json: the value must be an object or a string holding JSON.
      {R"({"type":"json","value":5})", kP + "grammar is not supported"},
      {R"({"type":"json","value":[{"properties":{}}]})", kP + "grammar is not supported"},
      {R"({"type":"json_object","value":true})", kP + "grammar is not supported"},
      {R"({"type":"json","value":null})", kP + "grammar is not supported"},
      // A string: serde_json's own error and position.
      {R"({"type":"json","value":"{bad"})", kNotValid + "key must be a string at line 1 column 2"},
      {R"({"type":"json","value":""})", kNotValid + "EOF while parsing a value at line 1 column 0"},
      {R"({"type":"json","value":"{} x"})", kNotValid + "trailing characters at line 1 column 4"},
      {R"({"type":"json","value":")" + std::string(129, '[') + R"("})",
       kNotValid + "recursion limit exceeded at line 1 column 128"},
      // The meta-schema: a schema is an object or a boolean.
      {R"({"type":"json","value":"5"})", kNotValid + R"(5 is not of types "boolean", "object")"},
      {R"({"type":"json","value":"[1,\"a\"]"})",
       kNotValid + R"([1,"a"] is not of types "boolean", "object")"},
      {R"({"type":"json_schema","value":{"schema":"x"}})",
       kNotValid + R"("x" is not of types "boolean", "object")"},
      // TGI's rule on its routes: a top-level `properties`.
      {R"({"type":"json","value":"true"})", kNotValid + "Grammar must have a 'properties' field"},
      {R"({"type":"json","value":{"type":"string"}})",
       kNotValid + "Grammar must have a 'properties' field"},
      {R"({"type":"json_object","value":"{\"type\":\"object\"}"})",
       kNotValid + "Grammar must have a 'properties' field"},
      {R"({"type":"json_schema","value":{"name":"n","schema":{"type":"integer"}}})",
       kNotValid + "Grammar must have a 'properties' field"},
      {R"({"type":"json_schema","value":{"schema":false}})",
       kNotValid + "Grammar must have a 'properties' field"},
  };
  for (const auto& c : cases) EXPECT_EQ(Error(c.grammar), c.message) << c.grammar;
}

TEST_F(GrammarValidationTest, CompilerErrorsNameTheKeywordOrConstruct) {
  const struct {
    std::string grammar, names;
  } cases[] = {
      {R"({"type":"json","value":{"properties":{"a":{"type":"string","not":{"const":"x"}}}}})",
       "\"not\""},
      {R"({"type":"json","value":{"properties":{"a":{"type":"integer","multipleOf":5}}}})",
       "multipleOf"},
      {R"({"type":"json_schema","value":{"schema":{"properties":{"a":{"type":"array",)"
       R"("uniqueItems":true}}}}})",
       "uniqueItems"},
      {R"({"type":"json","value":"{\"properties\":{\"a\":{\"format\":\"hostname\"}}}"})", "format"},
      {R"({"type":"json","value":{"properties":{"a":{"type":"foo"}}}})", "type"},
      // regex: TGI passes it to the shard unchecked (and a bad one fails the batch); here a 422.
      {R"({"type":"regex","value":"a(b"})", "parenthes"},
      {R"({"type":"regex","value":"(?=a)b"})", "lookahead"},
      {R"({"type":"regex","value":"(a)\\1"})", "backreference"},
      {R"({"type":"regex","value":"a{5000}"})", "1000"},
  };
  for (const auto& c : cases) {
    const std::string e = Error(c.grammar);
    EXPECT_EQ(e.rfind(kNotValid, 0), 0u) << e;
    EXPECT_NE(e.find(c.names), std::string::npos) << c.grammar << " -> " << e;
  }
}

TEST_F(GrammarValidationTest, ItemSeventeenInTgiOrder) {
  const std::string bad = R"({"type":"regex","value":"a("})";
  // After the per-parameter checks, the budget and the input length...
  EXPECT_EQ(Error(bad, R"(,"top_k":0)"), kP + "`top_k` must be strictly positive");
  limits_.max_input_tokens = 1;
  EXPECT_EQ(Error(bad), kP + "`inputs` must have less than 1 tokens. Given: 2");
  limits_.max_input_tokens = 100;
  // ... and before our watermark refusal.
  EXPECT_EQ(Error(bad, R"(,"watermark":true)").rfind(kNotValid, 0), 0u);
  EXPECT_EQ(Error(R"({"type":"regex","value":"a+"})", R"(,"watermark":true)"),
            kP + "`watermark` is not supported");
}

TEST_F(GrammarValidationTest, ValidGrammarsReachTheEngineCompiledOnce) {
  const std::string schema = R"({"properties":{"n":{"type":"integer"}},"required":["n"]})";
  auto a = Compiled(R"({"type":"json","value":)" + schema + "}");
  ASSERT_NE(a, nullptr);
  // The same schema as a string, through json_object and json_schema: one cache entry.
  auto escaped = nlohmann::json(schema).dump();
  EXPECT_EQ(Compiled(R"({"type":"json_object","value":)" + escaped + "}"), a);
  EXPECT_EQ(Compiled(R"({"type":"json_schema","value":{"name":"x","schema":)" + schema + "}}"), a);
  // serde also reads a struct from a sequence: JsonSchemaConfig as [name, schema].
  EXPECT_EQ(Compiled(R"({"type":"json_schema","value":["x",)" + schema + "]}"), a);
  // Whitespace in the sent value does not make another entry (the source is re-serialized).
  EXPECT_EQ(Compiled(R"({"type":"json","value":{ "properties" : {"n":{"type":"integer"}},)"
                     R"( "required":["n"]}})"),
            a);
  auto r = Compiled(R"({"type":"regex","value":"[0-9]{4}-[0-9]{2}"})");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r, a);
  EXPECT_EQ(Compiled(R"({"type":"regex","value":"[0-9]{4}-[0-9]{2}"})"), r);
  // No grammar: none on the engine request.
  auto v = ValidateGenerate(std::get<GenerateRequest>(ParseGenerateRequest(
                                R"({"inputs":"hi","parameters":{}})", GenerateShape::kGenerate)),
                            *tokenizer_, limits_, {}, [] { return uint64_t{1}; });
  EXPECT_EQ(std::get<ValidRequest>(v).engine.sampling.grammar, nullptr);
}

TEST_F(GrammarValidationTest, TheParserKeepsTheValueAsSent) {
  for (const std::string form :
       {R"({"inputs":"x","parameters":{"grammar":{"type":"regex","value":"a\"b"}}})",
        R"({"inputs":"x","parameters":{"grammar":{"value":"a\"b","type":"regex"}}})",
        R"({"inputs":"x","parameters":{"grammar":["regex","a\"b"]}})",
        R"({"inputs":"x","parameters":{"grammar":{"type":"regex","x":1,"value":  "a\"b" }}})"}) {
    auto r = ParseGenerateRequest(form, GenerateShape::kGenerate);
    ASSERT_TRUE(std::holds_alternative<GenerateRequest>(r)) << form;
    EXPECT_EQ(std::get<GenerateRequest>(r).parameters.grammar_value, R"("a\"b")") << form;
  }
}

}  // namespace
}  // namespace sg::api::grammar_test
