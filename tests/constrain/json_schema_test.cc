// JSON Schema -> Rx -> ByteDfa: every string the automaton accepts must be JSON that validates.
//
// Three kinds of checks:
//  - the schemas in tests/constrain/schemas/*.json (also validated by ajv in the e2e suite):
//    random walks on each DFA produce texts that must parse and pass an independent validator
//    written here from the JSON Schema spec and ajv-formats' rules (types, bounds, lengths in code
//    points, patterns via std::regex ECMAScript, formats, required, enum/const, $ref, ...);
//  - exact accept/refuse sets for small schemas (integer ranges checked exhaustively);
//  - every case in schemas/unsupported.json is refused with its keyword in the message.
#include "engine/constrain/json_schema.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "constrain/json_schema_checker.h"
#include "engine/constrain/byte_dfa.h"

namespace sg {
namespace {

using json_schema_testing::RandomWalk;
using json_schema_testing::SchemaGen;
using json_schema_testing::Validator;
using json_schema_testing::ValidDate;
using nlohmann::json;
using nlohmann::ordered_json;

const std::string kSchemaDir = STREAMGEN_SOURCE_DIR "/tests/constrain/schemas";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StatusOr<ByteDfa> CompileSchema(const ordered_json& schema) {
  StatusOr<Rx> rx = JsonSchemaToRx(schema, JsonSchemaOptions{});
  if (!rx.ok()) return rx.status();
  return ByteDfa::Compile(*rx);
}

ByteDfa MustCompile(const std::string& schema_text) {
  StatusOr<ByteDfa> dfa = CompileSchema(ordered_json::parse(schema_text));
  EXPECT_TRUE(dfa.ok()) << schema_text << ": " << dfa.status().ToString();
  if (!dfa.ok()) return ByteDfa();
  return std::move(dfa).value();
}

Status Refusal(const std::string& schema_text) {
  StatusOr<Rx> rx = JsonSchemaToRx(json::parse(schema_text));
  return rx.status();
}

std::vector<std::string> SchemaFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(kSchemaDir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".json" && name != "unsupported.json") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// ---- The schema corpus ----

TEST(JsonSchemaTest, CorpusHasRealisticSchemas) { EXPECT_GE(SchemaFiles().size(), 15u); }

// Random texts per corpus schema: fewer under the sanitizers (the walk and the validator, not
// the compiler, are what is slow there; the compiler runs once per schema either way).
#ifdef STREAMGEN_SANITIZED_BUILD
constexpr int kCorpusWalks = 60;
#else
constexpr int kCorpusWalks = 300;
#endif

TEST(JsonSchemaTest, EveryGeneratedTextOfEveryCorpusSchemaValidates) {
  std::mt19937_64 rng(20240607);
  for (const std::string& path : SchemaFiles()) {
    SCOPED_TRACE(path);
    const std::string text = ReadFile(path);
    const ordered_json ordered = ordered_json::parse(text);
    const json schema = json::parse(text);
    const auto t0 = std::chrono::steady_clock::now();
    StatusOr<Rx> rx = JsonSchemaToRx(ordered, JsonSchemaOptions{});
    ASSERT_TRUE(rx.ok()) << rx.status().ToString();
    StatusOr<ByteDfa> dfa = ByteDfa::Compile(*rx);
    ASSERT_TRUE(dfa.ok()) << dfa.status().ToString();
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[json_schema] %-28s %6d DFA states, %3d byte classes, %7.2f ms to compile\n",
                std::filesystem::path(path).filename().c_str(), dfa->num_states(),
                dfa->num_byte_classes(), ms);
    const Validator validator(schema);
    for (int i = 0; i < kCorpusWalks; ++i) {
      const std::string out = RandomWalk(*dfa, rng);
      const json value = json::parse(out, nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(value.is_discarded()) << "not JSON: " << out;
      const std::string error = validator.Check(schema, value);
      ASSERT_EQ(error, "") << out;
    }
  }
}

TEST(JsonSchemaTest, PropertiesFollowTheSchemaOrder) {
  const ordered_json schema = ordered_json::parse(
      R"({"type":"object","properties":{"zeta":{"const":1},"alpha":{"const":2}},
          "required":["zeta","alpha"]})");
  StatusOr<Rx> rx = JsonSchemaToRx(schema, JsonSchemaOptions{});
  ASSERT_TRUE(rx.ok());
  StatusOr<ByteDfa> dfa = ByteDfa::Compile(*rx);
  ASSERT_TRUE(dfa.ok());
  EXPECT_TRUE(dfa->Matches(R"({"zeta":1,"alpha":2})"));
  EXPECT_FALSE(dfa->Matches(R"({"alpha":2,"zeta":1})"));
}

TEST(JsonSchemaTest, ToolCallSchemaPutsNameFirst) {
  const ordered_json schema = ordered_json::parse(ReadFile(kSchemaDir + "/tool_call_tgi.json"));
  StatusOr<Rx> rx = JsonSchemaToRx(schema, JsonSchemaOptions{});
  ASSERT_TRUE(rx.ok()) << rx.status().ToString();
  StatusOr<ByteDfa> dfa = ByteDfa::Compile(*rx);
  ASSERT_TRUE(dfa.ok());
  EXPECT_TRUE(dfa->Matches(
      R"({"function": {"_name": "get_current_weather", "location": "Paris", "format": "celsius"}})"));
  EXPECT_TRUE(dfa->Matches(
      R"({"function":{"_name":"get_n_day_weather_forecast","location":"Oslo","format":"celsius","num_days":14}})"));
  EXPECT_FALSE(dfa->Matches(
      R"({"function":{"_name":"get_n_day_weather_forecast","location":"Oslo","format":"celsius","num_days":15}})"));
  EXPECT_FALSE(dfa->Matches(R"({"function":{"_name":"get_current_weather","location":"Paris"}})"));
  EXPECT_FALSE(
      dfa->Matches(R"({"function":{"_name":"other","location":"Paris","format":"celsius"}})"));
}

// ---- Random schemas: whatever compiles must only generate valid texts ----

TEST(JsonSchemaTest, RandomSchemasGenerateOnlyValidTexts) {
  std::mt19937_64 rng(99);
  int compiled = 0, refused = 0;
  for (int round = 0; round < 600; ++round) {
    const json schema = SchemaGen(1000 + round).Make();
    StatusOr<Rx> rx = JsonSchemaToRx(schema);
    if (!rx.ok()) {
      ASSERT_EQ(rx.status().code(), StatusCode::kInvalidArgument) << schema.dump();
      ASSERT_EQ(rx.status().message().rfind("JSON Schema ", 0), 0u) << rx.status().message();
      ++refused;
      continue;
    }
    StatusOr<ByteDfa> dfa = ByteDfa::Compile(*rx);
    if (!dfa.ok()) continue;  // too large for the default limits: a 422 of its own
    ++compiled;
    const Validator validator(schema);
    for (int i = 0; i < 40; ++i) {
      const std::string out = RandomWalk(*dfa, rng, 200);
      const json value = json::parse(out, nullptr, false);
      ASSERT_FALSE(value.is_discarded()) << schema.dump() << "\n" << out;
      ASSERT_EQ(validator.Check(schema, value), "") << schema.dump() << "\n" << out;
    }
  }
  std::printf("[json_schema] random schemas: %d compiled and checked, %d refused\n", compiled,
              refused);
  EXPECT_GT(compiled, 300);
}

// ---- Exact languages of small schemas ----

TEST(JsonSchemaTest, IntegerRangeIsExact) {
  const ByteDfa dfa = MustCompile(R"({"type":"integer","minimum":-5,"maximum":123})");
  for (int v = -1000; v <= 1000; ++v) {
    EXPECT_EQ(dfa.Matches(std::to_string(v)), v >= -5 && v <= 123) << v;
  }
  for (const char* bad : {"-0", "01", "1.0", "+1", "1e2", " 1", "1 ", "", "-", "00", "-05"}) {
    EXPECT_FALSE(dfa.Matches(bad)) << bad;
  }
}

TEST(JsonSchemaTest, IntegerRangesAreExactForManyBounds) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 40; ++round) {
    int lo = static_cast<int>(rng() % 4000) - 2000;
    int hi = lo + static_cast<int>(rng() % 3000);
    const bool exclusive = round % 2 == 1;
    const std::string schema =
        exclusive ? "{\"type\":\"integer\",\"exclusiveMinimum\":" + std::to_string(lo) +
                        ".5,\"exclusiveMaximum\":" + std::to_string(hi) + "}"
                  : "{\"type\":\"integer\",\"minimum\":" + std::to_string(lo) +
                        ",\"maximum\":" + std::to_string(hi) + "}";
    const ByteDfa dfa = MustCompile(schema);
    // exclusiveMinimum lo.5 admits lo + 1 and up (lo + 0.5 for a negative lo.5 still rounds so).
    const double lo_bound = exclusive ? lo + (lo >= 0 ? 0.5 : -0.5) : lo;
    for (int v = -5000; v <= 5000; ++v) {
      const bool in = exclusive ? (v > lo_bound && v < hi) : (v >= lo && v <= hi);
      ASSERT_EQ(dfa.Matches(std::to_string(v)), in) << schema << " " << v;
    }
  }
}

TEST(JsonSchemaTest, LargeAndHugeIntegerBounds) {
  // No integer of at most 15 digits meets it: refused rather than an empty language.
  EXPECT_FALSE(Refusal(R"({"type":"integer","minimum":1e300})").ok());
  const ByteDfa big = MustCompile(R"({"type":"integer","maximum":-999999999999990})");
  EXPECT_TRUE(big.Matches("-999999999999990"));
  EXPECT_TRUE(big.Matches("-999999999999999"));
  EXPECT_FALSE(big.Matches("-1000000000000000"));  // beyond the 15 digits generated
  EXPECT_FALSE(big.Matches("-999999999999989"));
}

TEST(JsonSchemaTest, NumberBoundsKeepEveryFractionInRange) {
  const ByteDfa dfa = MustCompile(R"({"type":"number","minimum":-3,"exclusiveMaximum":10})");
  for (int k = -15; k <= 15; ++k) {
    for (const char* frac : {"", ".0", ".5", ".999999", ".25"}) {
      for (const char* sign : {"", "-"}) {
        if (k < 0 && *sign) continue;
        const std::string text = std::string(sign) + std::to_string(k) + frac;
        if (dfa.Matches(text)) {
          const double x = std::stod(text);
          EXPECT_TRUE(x >= -3 && x < 10) << text;
        }
      }
    }
  }
  EXPECT_TRUE(dfa.Matches("-3"));
  EXPECT_TRUE(dfa.Matches("-2.5"));
  EXPECT_TRUE(dfa.Matches("9.999999"));
  EXPECT_TRUE(dfa.Matches("0.5"));
  EXPECT_TRUE(dfa.Matches("-0.5"));
  EXPECT_FALSE(dfa.Matches("10"));
  EXPECT_FALSE(dfa.Matches("-3.5"));
  EXPECT_FALSE(dfa.Matches("1e1"));
  EXPECT_FALSE(dfa.Matches("9.9999999"));  // 7 digits: valid, but not generated (rounding margin)
}

TEST(JsonSchemaTest, UnboundedNumbersAreFinite) {
  const ByteDfa dfa = MustCompile(R"({"type":"number"})");
  EXPECT_TRUE(dfa.Matches("-12.5e-7"));
  EXPECT_TRUE(dfa.Matches("0"));
  EXPECT_TRUE(dfa.Matches("1E+99"));
  EXPECT_FALSE(dfa.Matches("1e400"));
  EXPECT_FALSE(dfa.Matches("1" + std::string(400, '0')));
  EXPECT_FALSE(dfa.Matches("01"));
  EXPECT_FALSE(dfa.Matches(".5"));
  EXPECT_FALSE(dfa.Matches("NaN"));
}

TEST(JsonSchemaTest, NonIntegerNumberBoundIsRefused) {
  const Status s =
      Refusal(R"({"type":"object","properties":{"p":{"type":"number","maximum":1.5}}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      s.message().rfind("JSON Schema keyword \"maximum\" is not supported (at /properties/p)", 0),
      0u)
      << s.message();
}

TEST(JsonSchemaTest, StringLengthsCountCharactersAndEscapes) {
  const ByteDfa dfa = MustCompile(R"({"type":"string","minLength":2,"maxLength":3})");
  EXPECT_TRUE(dfa.Matches(R"("ab")"));
  EXPECT_TRUE(dfa.Matches(R"("abc")"));
  EXPECT_FALSE(dfa.Matches(R"("a")"));
  EXPECT_FALSE(dfa.Matches(R"("abcd")"));
  EXPECT_TRUE(dfa.Matches("\"\xC3\xA9\xE2\x82\xAC\""));  // é€: 2 characters
  EXPECT_TRUE(dfa.Matches("\"\xF0\x9F\x98\x80x\""));     // an astral character + x
  EXPECT_FALSE(dfa.Matches(R"("\u00e9x")"));  // no \uXXXX in bounded strings (fewer states)
  EXPECT_TRUE(dfa.Matches(R"("a\"\\")"));
  EXPECT_TRUE(dfa.Matches(R"("\n\t\/")"));
  EXPECT_FALSE(dfa.Matches(R"("\ud800x")"));       // a lone surrogate is never generated
  EXPECT_FALSE(dfa.Matches(R"("\ud83d\ude00")"));  // pairs are not generated either
  EXPECT_FALSE(dfa.Matches("\"a\nb\""));           // raw control character
  EXPECT_FALSE(dfa.Matches(R"("\x41")"));
  EXPECT_FALSE(dfa.Matches("\"\xC3\x28x\""));  // invalid UTF-8
  const ByteDfa open = MustCompile(R"({"type":"string","minLength":2})");
  EXPECT_TRUE(open.Matches(R"("\u00e9x")"));  // an escape is one character
  EXPECT_TRUE(open.Matches(R"("\uFFFFx")"));
  EXPECT_FALSE(open.Matches(R"("\u00e9")"));
  EXPECT_FALSE(open.Matches(R"("\ud800x")"));
  EXPECT_FALSE(open.Matches(R"("\uDFFFx")"));
  EXPECT_TRUE(open.Matches(R"("\uD7FFx")"));
}

TEST(JsonSchemaTest, PatternIsMatchedWholeAndEscapedAsJson) {
  const ByteDfa dfa = MustCompile(R"({"type":"string","pattern":"^[a-z]+\\d{2}$"})");
  EXPECT_TRUE(dfa.Matches(R"("abc12")"));
  EXPECT_FALSE(dfa.Matches(R"("abc1")"));
  EXPECT_FALSE(dfa.Matches(R"("12")"));
  EXPECT_FALSE(dfa.Matches(R"("xabc12y")"));
  const ByteDfa quoted = MustCompile(R"({"type":"string","pattern":"^a\"\\\\\\n$"})");
  EXPECT_TRUE(quoted.Matches(R"("a\"\\\n")"));
  EXPECT_FALSE(quoted.Matches("\"a\"\\\n\""));
  const ByteDfa any = MustCompile(R"({"type":"string","pattern":"^.{2}$"})");
  EXPECT_TRUE(any.Matches(R"("\"\\")"));
  EXPECT_TRUE(any.Matches(R"("\u0001x")"));
  EXPECT_FALSE(any.Matches("\"\x01x\""));
}

TEST(JsonSchemaTest, PatternWithLengthsIntersectsOrIsRefused) {
  const ByteDfa dfa = MustCompile(R"({"type":"string","pattern":"^[a-z]+$","maxLength":3})");
  EXPECT_TRUE(dfa.Matches(R"("abc")"));
  EXPECT_FALSE(dfa.Matches(R"("abcd")"));
  EXPECT_FALSE(dfa.Matches(R"("")"));
  const ByteDfa id = MustCompile(
      R"({"type":"string","pattern":"^[A-Z]-?[0-9]{2,6}$","minLength":5,"maxLength":6})");
  for (const char* ok : {R"("A-123")", R"("A1234")", R"("A-1234")", R"("A12345")"}) {
    EXPECT_TRUE(id.Matches(ok)) << ok;
  }
  for (const char* bad : {R"("A-12")", R"("A123")", R"("A-12345")", R"("A123456")"}) {
    EXPECT_FALSE(id.Matches(bad)) << bad;
  }
  // Several variable parts and only a maximum to apply: a capped subset.
  const ByteDfa capped = MustCompile(R"({"type":"string","pattern":"^(ab|c)+$","maxLength":3})");
  EXPECT_TRUE(capped.Matches(R"("ab")"));
  EXPECT_TRUE(capped.Matches(R"("c")"));
  EXPECT_FALSE(capped.Matches(R"("abab")"));
  const ByteDfa slug =
      MustCompile(R"({"type":"string","pattern":"^[a-z0-9]+(?:-[a-z0-9]+)*$","maxLength":8})");
  EXPECT_TRUE(slug.Matches(R"("abc-de")"));
  EXPECT_FALSE(slug.Matches(R"("abcdefghi")"));
  const ByteDfa email = MustCompile(R"({"type":"string","format":"email","maxLength":20})");
  EXPECT_TRUE(email.Matches(R"("ab@cd.ef")"));
  EXPECT_FALSE(email.Matches(R"("abcdefghij@klmnopqr.st")"));
  // A huge maximum is lowered instead of unrolled.
  const ByteDfa huge = MustCompile(R"({"type":"string","pattern":"^[a-z]+$","maxLength":1e9})");
  EXPECT_TRUE(huge.Matches(R"("abc")"));
  // Several variable parts with both bounds: every accepted text keeps within them (this once
  // failed when a length memo outlived the temporary nodes it was keyed by).
  const ByteDfa time =
      MustCompile(R"({"type":"string","format":"time","minLength":11,"maxLength":14})");
  std::mt19937_64 rng(5);
  for (int i = 0; i < 300; ++i) {
    const std::string out = RandomWalk(time, rng);
    EXPECT_GE(out.size(), 13u) << out;
    EXPECT_LE(out.size(), 16u) << out;
  }
  EXPECT_TRUE(time.Matches(R"("20:04:57.12Z")"));
  EXPECT_FALSE(time.Matches(R"("20:04:57.6-20:37")"));
  // A minimum the shape cannot be limited to exactly is refused.
  const Status s = Refusal(R"({"type":"string","pattern":"^(ab|c)+$","minLength":3})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("\"pattern\""), std::string::npos) << s.message();
  const Status f = Refusal(R"({"type":"string","format":"email","minLength":8})");
  EXPECT_NE(f.message().find("\"format\""), std::string::npos) << f.message();
}

TEST(JsonSchemaTest, DatesAreValidInEveryYear) {
  const ByteDfa dfa = MustCompile(R"({"type":"string","format":"date"})");
  int accepted = 0;
  for (int year : {1900, 2023, 2024, 2000}) {
    for (int m = 0; m <= 13; ++m) {
      for (int d = 0; d <= 32; ++d) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "\"%04d-%02d-%02d\"", year, m, d);
        if (!dfa.Matches(buf)) continue;
        ++accepted;
        EXPECT_TRUE(ValidDate(std::string(buf + 1, 10))) << buf;
        EXPECT_TRUE(ValidDate(std::string(buf + 1, 10).replace(0, 4, "2023"))) << buf;
      }
    }
  }
  EXPECT_EQ(accepted, 4 * (365 - 0));  // every non-leap day, February 29 never
  EXPECT_FALSE(dfa.Matches(R"("2024-02-29")"));
  EXPECT_FALSE(dfa.Matches(R"("2023-04-31")"));
  EXPECT_TRUE(dfa.Matches(R"("0000-12-31")"));
}

TEST(JsonSchemaTest, TimesAlwaysCarryAZone) {
  const ByteDfa dfa = MustCompile(R"({"type":"string","format":"time"})");
  for (const char* ok : {R"("12:34:56Z")", R"("23:59:59.123+05:30")", R"("00:00:00-23:59")"}) {
    EXPECT_TRUE(dfa.Matches(ok)) << ok;
  }
  for (const char* bad : {R"("24:00:00Z")", R"("12:34:56")", R"("23:59:60Z")", R"("12:60:00Z")",
                          R"("12:00:00+24:00")", R"("12:00:00+0530")"}) {
    EXPECT_FALSE(dfa.Matches(bad)) << bad;
  }
  const ByteDfa dt = MustCompile(R"({"type":"string","format":"date-time"})");
  EXPECT_TRUE(dt.Matches(R"("2024-06-07T10:00:00Z")"));
  EXPECT_FALSE(dt.Matches(R"("2024-06-07 10:00:00Z")"));
  const ByteDfa uuid = MustCompile(R"({"type":"string","format":"uuid"})");
  EXPECT_TRUE(uuid.Matches(R"("123e4567-e89b-12d3-a456-426614174000")"));
  EXPECT_FALSE(uuid.Matches(R"("123e4567e89b12d3a456426614174000")"));
  const ByteDfa email = MustCompile(R"({"type":"string","format":"email"})");
  EXPECT_TRUE(email.Matches(R"("jane.doe+tag@mail.example.com")"));
  EXPECT_FALSE(email.Matches(R"("jane..doe@example.com")"));
  EXPECT_FALSE(email.Matches(R"("jane@-example.com")"));
  EXPECT_FALSE(email.Matches(R"("jane@example")"));
}

TEST(JsonSchemaTest, EnumKeepsValuesOfTheTypeAndOfTheOtherKeywords) {
  const ByteDfa typed = MustCompile(R"({"type":"string","enum":["a",1,null,"b"]})");
  EXPECT_TRUE(typed.Matches(R"("a")"));
  EXPECT_TRUE(typed.Matches(R"("b")"));
  EXPECT_FALSE(typed.Matches("1"));
  EXPECT_FALSE(typed.Matches("null"));
  const ByteDfa rest = MustCompile(R"({"enum":["a","bb","ccc",7],"minLength":2})");
  EXPECT_FALSE(rest.Matches(R"("a")"));
  EXPECT_TRUE(rest.Matches(R"("bb")"));
  EXPECT_TRUE(rest.Matches(R"("ccc")"));
  EXPECT_TRUE(rest.Matches("7"));  // minLength does not apply to numbers
  const ByteDfa both = MustCompile(R"({"enum":[1,2,3],"const":2})");
  EXPECT_TRUE(both.Matches("2"));
  EXPECT_FALSE(both.Matches("1"));
  const ByteDfa escaped = MustCompile(R"({"const":"a\"b\n"})");
  EXPECT_TRUE(escaped.Matches(R"("a\"b\n")"));
}

TEST(JsonSchemaTest, ObjectsRequireInOrderAndOmitOptionals) {
  const ByteDfa dfa = MustCompile(
      R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},
          "c":{"type":"null"}},"required":["b"]})");
  for (const char* ok : {R"({"b":true})", R"({"a":1,"b":true})",
                         R"({ "a": 1, "b": false, "c": null })", R"({"b":true,"c":null})"}) {
    EXPECT_TRUE(dfa.Matches(ok)) << ok;
  }
  for (const char* bad :
       {R"({})", R"({"a":1})", R"({"b":true,"a":1})", R"({"b":true,"d":1})", R"({,"b":true})",
        R"({"b":true,})", R"({"b" :true})", R"({  "b":true})"}) {
    EXPECT_FALSE(dfa.Matches(bad)) << bad;
  }
  const ByteDfa optional = MustCompile(R"({"properties":{"x":{"const":1},"y":{"const":2}}})");
  for (const char* ok : {"{}", "{ }", R"({"x":1})", R"({"y":2})", R"({"x":1,"y":2})"}) {
    EXPECT_TRUE(optional.Matches(ok)) << ok;
  }
  EXPECT_FALSE(optional.Matches(R"({"x":1,})"));
  EXPECT_FALSE(optional.Matches("[]"));  // untyped with properties: objects are generated
}

TEST(JsonSchemaTest, AdditionalPropertiesAndRequiredUndeclared) {
  const ByteDfa map = MustCompile(
      R"({"type":"object","additionalProperties":{"type":"integer"},"maxProperties":2})");
  EXPECT_TRUE(map.Matches(R"({"x":1,"y":2})"));
  EXPECT_FALSE(map.Matches(R"({"x":1,"y":2,"z":3})"));
  EXPECT_FALSE(map.Matches(R"({"x":"s"})"));
  const ByteDfa req = MustCompile(
      R"({"type":"object","required":["id"],"additionalProperties":{"type":"string"}})");
  EXPECT_TRUE(req.Matches(R"({"id":"x"})"));
  EXPECT_FALSE(req.Matches(R"({"id":1})"));
  const Status s = Refusal(R"({"type":"object","required":["id"],"additionalProperties":false})");
  EXPECT_NE(s.message().find("\"additionalProperties\""), std::string::npos) << s.message();
  const ByteDfa closed = MustCompile(R"({"type":"object","additionalProperties":false})");
  EXPECT_TRUE(closed.Matches("{}"));
  EXPECT_FALSE(closed.Matches(R"({"a":1})"));
  const ByteDfa capped = MustCompile(
      R"({"type":"object","properties":{"a":{},"b":{},"c":{}},"required":["b"],
          "maxProperties":2})");
  EXPECT_TRUE(capped.Matches(R"({"a":1,"b":2})"));
  EXPECT_FALSE(capped.Matches(R"({"a":1,"b":2,"c":3})"));
}

TEST(JsonSchemaTest, ArraysCountElements) {
  const ByteDfa dfa = MustCompile(
      R"({"type":"array","items":{"type":"integer","minimum":0,"maximum":9},
          "minItems":2,"maxItems":3})");
  for (const char* ok : {"[1,2]", "[ 1, 2, 3 ]", "[0,9,5]"}) EXPECT_TRUE(dfa.Matches(ok)) << ok;
  for (const char* bad : {"[]", "[1]", "[1,2,3,4]", "[1,10]", "[1,,2]", "[1,2,]"}) {
    EXPECT_FALSE(dfa.Matches(bad)) << bad;
  }
  const ByteDfa tuple =
      MustCompile(R"({"prefixItems":[{"type":"string"},{"type":"integer"}],"items":false})");
  for (const char* ok : {"[]", R"(["a"])", R"(["a",1])"}) EXPECT_TRUE(tuple.Matches(ok)) << ok;
  EXPECT_FALSE(tuple.Matches(R"(["a",1,2])"));
  EXPECT_FALSE(tuple.Matches("[1]"));
  const ByteDfa rest =
      MustCompile(R"({"prefixItems":[{"const":"x"}],"items":{"type":"boolean"},"minItems":1})");
  EXPECT_TRUE(rest.Matches(R"(["x",true,false])"));
  EXPECT_FALSE(rest.Matches("[true]"));
  // maxItems beyond the unroll limit is lowered: arrays stay valid.
  const ByteDfa big = MustCompile(R"({"type":"array","items":{"const":0},"maxItems":100000})");
  EXPECT_TRUE(big.Matches("[0,0,0]"));
}

TEST(JsonSchemaTest, CombinatorsCombine) {
  const ByteDfa any =
      MustCompile(R"({"anyOf":[{"type":"integer"},{"type":"string","maxLength":1}]})");
  EXPECT_TRUE(any.Matches("12"));
  EXPECT_TRUE(any.Matches(R"("a")"));
  EXPECT_FALSE(any.Matches(R"("ab")"));
  // Siblings of anyOf hold in every branch.
  const ByteDfa sib = MustCompile(
      R"({"type":"object","required":["a"],"anyOf":[{"properties":{"a":{"const":1}}},
          {"properties":{"a":{"const":"x"}}}]})");
  EXPECT_TRUE(sib.Matches(R"({"a":1})"));
  EXPECT_TRUE(sib.Matches(R"({"a":"x"})"));
  EXPECT_FALSE(sib.Matches("{}"));
  const ByteDfa one = MustCompile(R"({"oneOf":[{"type":"null"},{"type":"boolean"}]})");
  EXPECT_TRUE(one.Matches("null"));
  const ByteDfa disc = MustCompile(
      R"({"oneOf":[{"type":"object","properties":{"k":{"const":"a"},"v":{"type":"integer"}},
          "required":["k"]},{"type":"object","properties":{"k":{"enum":["b","c"]}},"required":["k"]}]})");
  EXPECT_TRUE(disc.Matches(R"({"k":"a","v":1})"));
  EXPECT_TRUE(disc.Matches(R"({"k":"c"})"));
  const Status overlap = Refusal(R"({"oneOf":[{"type":"number"},{"type":"integer"}]})");
  EXPECT_NE(overlap.message().find("\"oneOf\""), std::string::npos);
  const ByteDfa all = MustCompile(
      R"({"allOf":[{"properties":{"a":{"type":"integer","minimum":0}},"required":["a"]},
          {"properties":{"a":{"maximum":5},"b":{"type":"string"}},"required":["b"]}]})");
  EXPECT_TRUE(all.Matches(R"({"a":5,"b":"x"})"));
  EXPECT_FALSE(all.Matches(R"({"a":6,"b":"x"})"));
  EXPECT_FALSE(all.Matches(R"({"a":1})"));
  // One member closes the object: a property declared only by the other cannot be required.
  const Status closed = Refusal(
      R"({"allOf":[{"properties":{"a":{}},"additionalProperties":false},
          {"properties":{"b":{}},"required":["b"]}]})");
  EXPECT_EQ(closed.code(), StatusCode::kInvalidArgument);
  const Status two = Refusal(R"({"allOf":[{"pattern":"^a"},{"pattern":"b$"}]})");
  EXPECT_NE(two.message().find("\"pattern\""), std::string::npos) << two.message();
}

TEST(JsonSchemaTest, RefsResolveAndCyclesAreRefused) {
  const ByteDfa dfa = MustCompile(
      R"({"$defs":{"a/b":{"type":"integer"},"c~d":{"$ref":"#/$defs/a~1b"}},
          "properties":{"x":{"$ref":"#/$defs/c~0d"},"y":{"$ref":"#/definitions/z"}},
          "definitions":{"z":{"const":true}},"required":["x","y"]})");
  EXPECT_TRUE(dfa.Matches(R"({"x":3,"y":true})"));
  const Status cycle = Refusal(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},
                                   "$ref":"#/$defs/a"})");
  EXPECT_EQ(cycle.message().rfind("JSON Schema keyword \"$ref\" is not supported (at ", 0), 0u)
      << cycle.message();
  const Status remote = Refusal(R"({"$ref":"https://example.com/schema.json"})");
  EXPECT_NE(remote.message().find("\"$ref\""), std::string::npos);
  const Status missing = Refusal(R"({"$ref":"#/$defs/nope"})");
  EXPECT_NE(missing.message().find("\"$ref\""), std::string::npos);
}

TEST(JsonSchemaTest, BooleanAndUntypedSchemas) {
  const ByteDfa any = MustCompile("true");
  for (const char* ok : {"null", "1", R"("s")", "[1,[2,{}]]", R"({"a":{"b":[]}})"}) {
    EXPECT_TRUE(any.Matches(ok)) << ok;
  }
  EXPECT_FALSE(Refusal("false").ok());
  EXPECT_FALSE(Refusal("3").ok());
  const ByteDfa obj = MustCompile(R"({"type":"object"})");
  EXPECT_TRUE(obj.Matches(R"({"a":[1,{"b":null}]})"));
  EXPECT_FALSE(obj.Matches("[]"));
  std::mt19937_64 rng(3);
  const ByteDfa deep = ByteDfa::Compile(JsonAnyValueRx(3)).value();
  for (int i = 0; i < 300; ++i) {
    const std::string out = RandomWalk(deep, rng);
    EXPECT_FALSE(json::parse(out, nullptr, false).is_discarded()) << out;
  }
}

TEST(JsonSchemaTest, ErrorMessagesNameKeywordAndPointer) {
  Status s = Refusal(R"({"properties":{"tags":{"items":{"not":{}}}}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "JSON Schema keyword \"not\" is not supported (at /properties/tags/items)");
  s = Refusal(R"({"properties":{"a/b":{"type":"integer","minimum":"x"}}})");
  EXPECT_EQ(s.message(), "JSON Schema keyword \"minimum\" must be a number (at /properties/a~1b)");
  s = Refusal(R"({"type":"strng"})");
  EXPECT_EQ(s.message().rfind("JSON Schema keyword \"type\" must be ", 0), 0u) << s.message();
  s = Refusal(R"({"type":"string","format":"ipv4"})");
  EXPECT_EQ(s.message().rfind("JSON Schema keyword \"format\" is not supported (at )", 0), 0u)
      << s.message();
}

TEST(JsonSchemaTest, EveryUnsupportedCaseIsRefusedNamingItsKeyword) {
  const json cases = json::parse(ReadFile(kSchemaDir + "/unsupported.json"));
  std::set<std::string> keywords;
  for (const json& c : cases) {
    const std::string kw = c["keyword"];
    keywords.insert(kw);
    const Status s = Refusal(c["schema"].dump());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << kw;
    EXPECT_NE(s.message().find("\"" + kw + "\""), std::string::npos) << kw << ": " << s.message();
  }
  EXPECT_GE(keywords.size(), 12u);
}

TEST(JsonSchemaTest, HostileSchemasAreRefused) {
  // 10 000 nested objects: refused before any recursion.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += R"({"properties":{"a":)";
  deep += "{}";
  for (int i = 0; i < 10000; ++i) deep += "}}";
  Status s = Refusal(deep);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  // 100 nested subschemas: within the JSON depth limit, beyond the subschema depth limit.
  deep.clear();
  for (int i = 0; i < 100; ++i) deep += R"({"items":)";
  deep += "{}";
  for (int i = 0; i < 100; ++i) deep += "}";
  s = Refusal(deep);
  EXPECT_NE(s.message().find("\"items\""), std::string::npos) << s.message();
  // A DAG of references that doubles 40 times.
  json doubling = {{"$defs", json::object()}};
  for (int i = 0; i < 40; ++i) {
    const std::string next = "#/$defs/d" + std::to_string(i + 1);
    doubling["$defs"]["d" + std::to_string(i)] = {
        {"type", "array"}, {"prefixItems", {{{"$ref", next}}, {{"$ref", next}}}}};
  }
  doubling["$defs"]["d40"] = {{"type", "integer"}};
  doubling["$ref"] = "#/$defs/d0";
  // Refused by the size limits, not by exhausting memory or time (no timing is asserted here:
  // speed is a benchmark's business; a hang would fail the suite's timeout).
  StatusOr<Rx> rx = JsonSchemaToRx(doubling);
  if (rx.ok()) {
    EXPECT_FALSE(ByteDfa::Compile(*rx).ok());
  }
  // Many properties and enum values past the options' limits.
  JsonSchemaOptions small;
  small.max_properties = 2;
  small.max_enum_values = 2;
  s = JsonSchemaToRx(json::parse(R"({"properties":{"a":{},"b":{},"c":{}}})"), small).status();
  EXPECT_NE(s.message().find("\"properties\""), std::string::npos);
  s = JsonSchemaToRx(json::parse(R"({"enum":[1,2,3]})"), small).status();
  EXPECT_NE(s.message().find("\"enum\""), std::string::npos);
}

}  // namespace
}  // namespace sg