// ConfigFromHfJson on hand-written config.json objects: defaults, token ids, rope scaling against
// transformers' own numbers, and errors instead of exceptions for wrong JSON types.
#include "engine/model/hf_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/model/model_config.h"

namespace sg {
namespace {

using nlohmann::json;

json Llama8B() {
  return json{{"model_type", "llama"},
              {"vocab_size", 128256},
              {"hidden_size", 4096},
              {"intermediate_size", 14336},
              {"num_hidden_layers", 32},
              {"num_attention_heads", 32},
              {"num_key_value_heads", 8},
              {"max_position_embeddings", 131072},
              {"rms_norm_eps", 1e-5},
              {"rope_theta", 500000.0},
              {"bos_token_id", 128000},
              {"eos_token_id", json::array({128001, 128008, 128009})},
              {"rope_scaling",
               {{"factor", 8.0},
                {"low_freq_factor", 1.0},
                {"high_freq_factor", 4.0},
                {"original_max_position_embeddings", 8192},
                {"rope_type", "llama3"}}}};
}

TEST(HfConfigTest, Llama31) {
  StatusOr<ModelConfig> c = ConfigFromHfJson(Llama8B(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->arch, Arch::kLlama);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->num_kv_heads, 8);
  EXPECT_EQ(c->max_context, 131072);
  EXPECT_EQ(c->rope_style, RopeStyle::kHalves);
  EXPECT_EQ(c->bos_token_id, 128000);
  EXPECT_EQ(c->eos_token_id, 128001);  // a list: the first
  EXPECT_FALSE(c->tied_embeddings);
  // transformers _compute_llama3_parameters (torch float32) for this config, at pair i.
  const std::pair<int, float> kGolden[] = {
      {0, 1.000000000e+00f},  {10, 1.286873817e-01f}, {20, 1.656044088e-02f},
      {27, 3.942275885e-03f}, {28, 3.211446106e-03f}, {29, 2.166570630e-03f},
      {30, 1.371893683e-03f}, {31, 8.567514597e-04f}, {35, 9.556212171e-05f},
      {50, 4.411534519e-06f}, {63, 3.068925878e-07f},
  };
  ASSERT_EQ(c->rope_inv_freq.size(), 64u);
  for (const auto& [i, want] : kGolden) {
    EXPECT_NEAR(c->rope_inv_freq[i], want, 2e-6 * want) << "pair " << i;
  }
}

TEST(HfConfigTest, DefaultsFollowTransformers) {
  json j = {{"model_type", "qwen2"},      {"vocab_size", 1000},     {"hidden_size", 64},
            {"intermediate_size", 128},   {"num_hidden_layers", 2}, {"num_attention_heads", 4},
            {"tie_word_embeddings", true}};
  StatusOr<ModelConfig> c = ConfigFromHfJson(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->arch, Arch::kQwen2);
  EXPECT_EQ(c->num_kv_heads, 4);  // = heads
  EXPECT_EQ(c->head_dim, 16);     // hidden / heads
  EXPECT_FLOAT_EQ(c->rms_norm_eps, 1e-6f);
  EXPECT_FLOAT_EQ(c->rope_theta, 10000.0f);
  EXPECT_TRUE(c->tied_embeddings);
  EXPECT_EQ(c->bos_token_id, -1);
  EXPECT_EQ(c->eos_token_id, -1);
  EXPECT_EQ(c->rope_inv_freq, DefaultRopeInvFreq(16, 10000.0f));
}

TEST(HfConfigTest, LinearScalingAndExplicitHeadDim) {
  json j = Llama8B();
  j["model_type"] = "qwen3";
  j["head_dim"] = 64;
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  StatusOr<ModelConfig> c = ConfigFromHfJson(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->head_dim, 64);
  const std::vector<float> base = DefaultRopeInvFreq(64, 500000.0f);
  ASSERT_EQ(c->rope_inv_freq.size(), 32u);
  for (size_t i = 0; i < 32; ++i) EXPECT_FLOAT_EQ(c->rope_inv_freq[i], base[i] / 4);
}

TEST(HfConfigTest, DefaultRopeInvFreqValues) {
  const std::vector<float> f = DefaultRopeInvFreq(128, 10000.0f);
  ASSERT_EQ(f.size(), 64u);
  EXPECT_FLOAT_EQ(f[0], 1.0f);
  EXPECT_FLOAT_EQ(f[32], 0.01f);  // 10000^(-64/128)
  EXPECT_FLOAT_EQ(f[63], static_cast<float>(1.0 / std::pow(10000.0, 126.0 / 128.0)));
}

TEST(HfConfigTest, ErrorsNotExceptions) {
  struct BadCase {
    const char* key;
    json value;
    StatusCode code;
    const char* fragment;
  };
  const BadCase cases[] = {
      {"hidden_size", "4096", StatusCode::kInvalidArgument, "'hidden_size' must be an integer"},
      {"num_key_value_heads", 5, StatusCode::kInvalidArgument, "not a multiple of 5"},
      {"num_attention_heads", 0, StatusCode::kInvalidArgument, "attention heads is 0"},
      {"vocab_size", json(), StatusCode::kNotFound, "missing key 'vocab_size'"},
      {"rms_norm_eps", json::array(), StatusCode::kInvalidArgument, "'rms_norm_eps' must be"},
      {"rope_scaling", json{{"rope_type", "yarn"}, {"factor", 4.0}}, StatusCode::kUnimplemented,
       "rope_scaling type 'yarn' is not supported"},
      {"rope_scaling",
       json{{"rope_type", "llama3"},
            {"factor", 8.0},
            {"low_freq_factor", 2.0},
            {"high_freq_factor", 2.0}},
       StatusCode::kInvalidArgument, "high_freq_factor == low_freq_factor"},
      {"eos_token_id", "x", StatusCode::kInvalidArgument, "'eos_token_id' must be a token id"},
      {"model_type", 3, StatusCode::kNotFound, "missing string key 'model_type'"},
      {"hidden_size", int64_t{1} << 40, StatusCode::kInvalidArgument, "hidden_size is"},
  };
  for (const BadCase& bad : cases) {
    json j = Llama8B();
    j[bad.key] = bad.value;
    StatusOr<ModelConfig> c = ConfigFromHfJson(j, "dir/config.json");
    ASSERT_FALSE(c.ok()) << bad.key;
    EXPECT_EQ(c.status().code(), bad.code) << c.status().ToString();
    EXPECT_NE(c.status().message().find(bad.fragment), std::string::npos) << c.status().message();
    EXPECT_EQ(c.status().message().rfind("dir/config.json", 0), 0u) << c.status().message();
  }
  EXPECT_FALSE(ConfigFromHfJson(json::array(), "c").ok());
}

}  // namespace
}  // namespace sg
