// LoadModel on tiny test models of every architecture, from GGUF and from Hugging Face folders:
// config, weight binding, tying, the llama q/k permutation, shards, rope scaling, weight types.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "engine/model/model.h"
#include "engine/model/rope_scaling.h"
#include "test_util.h"
#include "testmodel/model_plan.h"

namespace sg {
namespace {

using test::TempDir;
using test::Tiny;
using test::ToFloats;

std::unique_ptr<Model> LoadOk(const std::string& path) {
  StatusOr<std::unique_ptr<Model>> m = LoadModel(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

struct Case {
  std::string arch;
  bool gguf;
};

class LoadTinyTest : public ::testing::TestWithParam<Case> {};

TEST_P(LoadTinyTest, ConfigAndWeightsBind) {
  const Case& c = GetParam();
  TempDir dir;
  const testmodel::TestModelOptions o = Tiny(c.arch);
  const std::string path = c.gguf ? dir.File("m.gguf") : dir.File("hf");
  ASSERT_TRUE((c.gguf ? testmodel::WriteTestGguf(o, path) : testmodel::WriteTestHf(o, path)).ok());
  std::unique_ptr<Model> m = LoadOk(path);
  ASSERT_NE(m, nullptr);
  const ModelConfig& cfg = m->config;
  EXPECT_STREQ(ArchName(cfg.arch), c.arch.c_str());
  EXPECT_EQ(m->source, c.gguf ? ModelSource::kGguf : ModelSource::kHfFolder);
  EXPECT_EQ(cfg.vocab_size, 512);
  EXPECT_EQ(cfg.hidden_size, 256);
  EXPECT_EQ(cfg.intermediate_size, 512);
  EXPECT_EQ(cfg.num_layers, 2);
  EXPECT_EQ(cfg.num_heads, 4);
  EXPECT_EQ(cfg.num_kv_heads, 2);
  const int64_t d = c.arch == "qwen3" ? 128 : 64;
  EXPECT_EQ(cfg.head_dim, d);
  EXPECT_EQ(cfg.max_context, 256);
  EXPECT_EQ(cfg.bos_token_id, 1);
  EXPECT_EQ(cfg.eos_token_id, 2);
  EXPECT_FALSE(cfg.tied_embeddings);
  EXPECT_EQ(cfg.has_qkv_bias, c.arch == "qwen2");
  EXPECT_EQ(cfg.has_qk_norm, c.arch == "qwen3");
  EXPECT_EQ(cfg.rope_style,
            c.gguf && c.arch == "llama" ? RopeStyle::kInterleaved : RopeStyle::kHalves);
  const float theta = c.arch == "llama" ? 10000.0f : 1000000.0f;
  EXPECT_FLOAT_EQ(cfg.rope_theta, theta);
  EXPECT_FLOAT_EQ(cfg.rms_norm_eps, c.arch == "llama" ? 1e-5f : 1e-6f);
  ASSERT_EQ(cfg.rope_inv_freq.size(), static_cast<size_t>(d / 2));
  EXPECT_EQ(cfg.rope_inv_freq, DefaultRopeInvFreq(d, theta));

  const ModelWeights& w = m->weights;
  ASSERT_EQ(w.layers.size(), 2u);
  EXPECT_EQ(w.token_embedding.shape, (std::vector<int64_t>{512, 256}));
  EXPECT_EQ(w.output.shape, (std::vector<int64_t>{512, 256}));
  EXPECT_NE(w.output.data, w.token_embedding.data);
  EXPECT_EQ(w.output_norm.shape, (std::vector<int64_t>{256}));
  for (const LayerWeights& l : w.layers) {
    EXPECT_EQ(l.wq.shape, (std::vector<int64_t>{4 * d, 256}));
    EXPECT_EQ(l.wk.shape, (std::vector<int64_t>{2 * d, 256}));
    EXPECT_EQ(l.wv.shape, (std::vector<int64_t>{2 * d, 256}));
    EXPECT_EQ(l.wo.shape, (std::vector<int64_t>{256, 4 * d}));
    EXPECT_EQ(l.w_gate.shape, (std::vector<int64_t>{512, 256}));
    EXPECT_EQ(l.w_up.shape, (std::vector<int64_t>{512, 256}));
    EXPECT_EQ(l.w_down.shape, (std::vector<int64_t>{256, 512}));
    EXPECT_EQ(l.attn_norm.shape, (std::vector<int64_t>{256}));
    EXPECT_EQ(l.ffn_norm.shape, (std::vector<int64_t>{256}));
    EXPECT_EQ(l.bq.empty(), c.arch != "qwen2");
    EXPECT_EQ(l.bk.empty(), c.arch != "qwen2");
    EXPECT_EQ(l.bv.empty(), c.arch != "qwen2");
    EXPECT_EQ(l.q_norm.empty(), c.arch != "qwen3");
    EXPECT_EQ(l.k_norm.empty(), c.arch != "qwen3");
    if (c.arch == "qwen3") {
      EXPECT_EQ(l.q_norm.shape, (std::vector<int64_t>{d}));
    }
  }
  // Values are the generator's, whatever the format (f32: bit-exact).
  StatusOr<std::vector<float>> embed = testmodel::TestTensorValues(o, "model.embed_tokens.weight");
  ASSERT_TRUE(embed.ok());
  EXPECT_EQ(ToFloats(w.token_embedding), *embed);
  StatusOr<std::vector<float>> down =
      testmodel::TestTensorValues(o, "model.layers.1.mlp.down_proj.weight");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(ToFloats(w.layers[1].w_down), *down);
}

INSTANTIATE_TEST_SUITE_P(AllArchs, LoadTinyTest,
                         ::testing::Values(Case{"llama", true}, Case{"llama", false},
                                           Case{"qwen2", true}, Case{"qwen2", false},
                                           Case{"qwen3", true}, Case{"qwen3", false}),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return info.param.arch + (info.param.gguf ? "_gguf" : "_hf");
                         });

// GGUF llama stores q/k rows permuted for the interleaved rotation (llama.cpp's converter):
// GGUF row h*D + 2j + t holds HF row h*D + t*D/2 + j. qwen2 is stored as is.
TEST(LoadModelTest, GgufLlamaQkRowsArePermutedLikeLlamaCpp) {
  TempDir dir;
  for (const std::string arch : {"llama", "qwen2"}) {
    const testmodel::TestModelOptions o = Tiny(arch);
    ASSERT_TRUE(testmodel::WriteTestGguf(o, dir.File(arch + ".gguf")).ok());
    std::unique_ptr<Model> m = LoadOk(dir.File(arch + ".gguf"));
    ASSERT_NE(m, nullptr);
    const int64_t d = 64, cols = 256;
    struct Proj {
      const char* hf;
      const TensorView& view;
      int64_t heads;
    };
    for (const Proj& p :
         {Proj{"model.layers.0.self_attn.q_proj.weight", m->weights.layers[0].wq, 4},
          Proj{"model.layers.0.self_attn.k_proj.weight", m->weights.layers[0].wk, 2}}) {
      StatusOr<std::vector<float>> hf = testmodel::TestTensorValues(o, p.hf);
      ASSERT_TRUE(hf.ok());
      const std::vector<float> gguf = ToFloats(p.view);
      for (int64_t h = 0; h < p.heads; ++h) {
        for (int64_t j = 0; j < d / 2; ++j) {
          for (int64_t t = 0; t < 2; ++t) {
            const int64_t g_row = h * d + 2 * j + t;
            const int64_t hf_row = arch == "llama" ? h * d + t * d / 2 + j : g_row;
            for (int64_t k = 0; k < cols; k += 37) {
              ASSERT_EQ(gguf[g_row * cols + k], (*hf)[hf_row * cols + k])
                  << arch << " " << p.hf << " row " << g_row;
            }
          }
        }
      }
    }
    // v is never permuted.
    StatusOr<std::vector<float>> v =
        testmodel::TestTensorValues(o, "model.layers.0.self_attn.v_proj.weight");
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(ToFloats(m->weights.layers[0].wv), *v);
  }
}

TEST(LoadModelTest, TiedEmbeddingsShareTheView) {
  TempDir dir;
  testmodel::TestModelOptions o = Tiny("llama");
  o.tied = true;
  ASSERT_TRUE(testmodel::WriteTestGguf(o, dir.File("t.gguf")).ok());
  ASSERT_TRUE(testmodel::WriteTestHf(o, dir.File("hf")).ok());
  for (const std::string& path : {dir.File("t.gguf"), dir.File("hf")}) {
    std::unique_ptr<Model> m = LoadOk(path);
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->config.tied_embeddings) << path;
    EXPECT_EQ(m->weights.output.data, m->weights.token_embedding.data) << path;
    EXPECT_EQ(m->tensors.Find("output.weight"), nullptr);
    EXPECT_EQ(m->tensors.Find("lm_head.weight"), nullptr);
  }
}

TEST(LoadModelTest, ShardedFolderMatchesSingleFile) {
  TempDir dir;
  testmodel::TestModelOptions o = Tiny("qwen2", "bf16");
  ASSERT_TRUE(testmodel::WriteTestHf(o, dir.File("one")).ok());
  o.shards = 3;
  ASSERT_TRUE(testmodel::WriteTestHf(o, dir.File("three")).ok());
  std::unique_ptr<Model> one = LoadOk(dir.File("one"));
  std::unique_ptr<Model> three = LoadOk(dir.File("three"));
  ASSERT_NE(one, nullptr);
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(three->tensors.files().size(), 3u);
  EXPECT_EQ(one->tensors.all().size(), three->tensors.all().size());
  EXPECT_EQ(three->weights.layers[1].wq.type, DType::kBF16);
  EXPECT_EQ(three->weights.layers[1].attn_norm.type, DType::kF32);  // norms stay f32
  EXPECT_EQ(ToFloats(one->weights.layers[1].wq), ToFloats(three->weights.layers[1].wq));
  EXPECT_EQ(ToFloats(one->weights.output), ToFloats(three->weights.output));
  EXPECT_EQ(ToFloats(one->weights.layers[0].bk), ToFloats(three->weights.layers[0].bk));
}

// The GGUF carries Llama-3.1 scaling as rope_freqs.weight divisors (llama.cpp's converter); the
// folder as rope_scaling {rope_type: llama3}. Both must give transformers' inv_freq.
TEST(LoadModelTest, Llama3RopeFreqsMatchHfComputation) {
  TempDir dir;
  testmodel::TestModelOptions o = Tiny("llama");
  o.rope_scaling = "llama3";
  ASSERT_TRUE(testmodel::WriteTestGguf(o, dir.File("r.gguf")).ok());
  ASSERT_TRUE(testmodel::WriteTestHf(o, dir.File("hf")).ok());
  std::unique_ptr<Model> g = LoadOk(dir.File("r.gguf"));
  std::unique_ptr<Model> h = LoadOk(dir.File("hf"));
  ASSERT_NE(g, nullptr);
  ASSERT_NE(h, nullptr);
  EXPECT_NE(g->tensors.Find("rope_freqs.weight"), nullptr);
  const std::vector<float> base = DefaultRopeInvFreq(64, 10000.0f);
  const std::vector<float> expected =
      Llama3ScaledInvFreq(base, Llama3RopeScaling{8.0, 1.0, 4.0, 64.0});
  ASSERT_EQ(g->config.rope_inv_freq.size(), 32u);
  ASSERT_EQ(h->config.rope_inv_freq.size(), 32u);
  int low = 0, medium = 0, high = 0;
  for (size_t i = 0; i < 32; ++i) {
    EXPECT_NEAR(g->config.rope_inv_freq[i], expected[i], 2e-6f * expected[i]) << i;
    EXPECT_NEAR(h->config.rope_inv_freq[i], expected[i], 1e-7f * expected[i]) << i;
    const float ratio = base[i] / expected[i];
    if (ratio < 1.0001f)
      ++high;
    else if (ratio > 7.999f)
      ++low;
    else
      ++medium;
  }
  // The tiny model's frequencies cover all three regimes of the smoothing.
  EXPECT_GT(low, 0);
  EXPECT_GT(medium, 0);
  EXPECT_GT(high, 0);
}

TEST(LoadModelTest, LinearRopeScalingDividesFrequencies) {
  TempDir dir;
  testmodel::TestModelOptions o = Tiny("qwen2");
  o.rope_scaling = "linear";
  ASSERT_TRUE(testmodel::WriteTestGguf(o, dir.File("r.gguf")).ok());
  ASSERT_TRUE(testmodel::WriteTestHf(o, dir.File("hf")).ok());
  const std::vector<float> base = DefaultRopeInvFreq(64, 1000000.0f);
  for (const std::string& path : {dir.File("r.gguf"), dir.File("hf")}) {
    std::unique_ptr<Model> m = LoadOk(path);
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->config.rope_inv_freq.size(), base.size());
    for (size_t i = 0; i < base.size(); ++i) {
      EXPECT_FLOAT_EQ(m->config.rope_inv_freq[i], base[i] / 2) << path << " " << i;
    }
  }
}

// Every GGUF weight type loads, and its weights are the same F32 weights quantized.
TEST(LoadModelTest, EveryWeightTypeLoadsCloseToF32) {
  TempDir dir;
  for (const std::string type :
       {"f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q5_K", "q6_K", "q4_K_M"}) {
    const testmodel::TestModelOptions o = Tiny("qwen3", type);
    const std::string path = dir.File(type + ".gguf");
    ASSERT_TRUE(testmodel::WriteTestGguf(o, path).ok()) << type;
    std::unique_ptr<Model> m = LoadOk(path);
    ASSERT_NE(m, nullptr) << type;
    EXPECT_EQ(m->weights.layers[0].attn_norm.type, DType::kF32) << type;
    EXPECT_EQ(m->weights.layers[0].q_norm.type, DType::kF32) << type;
    StatusOr<std::vector<float>> ref =
        testmodel::TestTensorValues(o, "model.layers.0.mlp.up_proj.weight");
    ASSERT_TRUE(ref.ok());
    const std::vector<float> got = ToFloats(m->weights.layers[0].w_up);
    ASSERT_EQ(got.size(), ref->size());
    double err = 0, norm = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      err += (got[i] - (*ref)[i]) * (got[i] - (*ref)[i]);
      norm += (*ref)[i] * (*ref)[i];
    }
    // 4-bit formats keep the relative RMS error near 10% on Gaussian rows; 8-bit and floats far
    // less.
    EXPECT_LT(std::sqrt(err / norm), 0.15) << type;
  }
}

TEST(LoadModelTest, Q4KMMixesTypesLikeLlamaCpp) {
  TempDir dir;
  testmodel::TestModelOptions o = Tiny("llama", "q4_K_M");
  ASSERT_TRUE(testmodel::WriteTestGguf(o, dir.File("m.gguf")).ok());
  std::unique_ptr<Model> m = LoadOk(dir.File("m.gguf"));
  ASSERT_NE(m, nullptr);
  const ModelWeights& w = m->weights;
  EXPECT_EQ(w.token_embedding.type, DType::kQ4_K);
  EXPECT_EQ(w.output.type, DType::kQ6_K);
  EXPECT_EQ(w.output_norm.type, DType::kF32);
  EXPECT_EQ(w.layers[0].wq.type, DType::kQ4_K);
  // use_more_bits(i, 2): layer 1 (i >= 7n/8) gets Q6_K for attn_v and ffn_down, layer 0 not.
  EXPECT_EQ(w.layers[0].wv.type, DType::kQ4_K);
  EXPECT_EQ(w.layers[1].wv.type, DType::kQ6_K);
  EXPECT_EQ(w.layers[0].w_down.type, DType::kQ4_K);
  EXPECT_EQ(w.layers[1].w_down.type, DType::kQ6_K);
}

// Rows that are not whole 256-element super-blocks fall back like llama.cpp (Q4_K -> Q5_0,
// Q6_K -> Q8_0): the 135m shape has rows of 576. Checked on the plan, without writing 100 MB.
TEST(LoadModelTest, KQuantFallbackForRowsNotMultipleOf256) {
  testmodel::TestModelOptions o;
  o.size = "135m";
  StatusOr<testmodel::TestModelShape> shape = testmodel::ResolveShape(o);
  ASSERT_TRUE(shape.ok());
  EXPECT_TRUE(shape->tied);
  std::map<std::string, DType> q4km, q4k;
  for (const testmodel::PlannedTensor& t : testmodel::PlanTensors(o, *shape)) {
    StatusOr<DType> a = testmodel::GgufTensorType("q4_K_M", t, *shape);
    StatusOr<DType> b = testmodel::GgufTensorType("q4_K", t, *shape);
    ASSERT_TRUE(a.ok() && b.ok()) << t.gguf_name;
    q4km[t.gguf_name] = *a;
    q4k[t.gguf_name] = *b;
  }
  EXPECT_EQ(q4km.count("output.weight"), 0u);
  EXPECT_EQ(q4km["token_embd.weight"], DType::kQ8_0);  // tied output: Q6_K, rows of 576
  EXPECT_EQ(q4km["blk.0.attn_q.weight"], DType::kQ5_0);
  EXPECT_EQ(q4km["blk.0.ffn_down.weight"], DType::kQ6_K);  // rows of 1536 = 6 x 256
  EXPECT_EQ(q4km["blk.6.ffn_down.weight"], DType::kQ4_K);
  EXPECT_EQ(q4km["blk.0.attn_v.weight"], DType::kQ8_0);
  EXPECT_EQ(q4km["blk.0.attn_norm.weight"], DType::kF32);
  EXPECT_EQ(q4k["token_embd.weight"], DType::kQ5_0);
  EXPECT_EQ(q4k["blk.3.ffn_down.weight"], DType::kQ4_K);
}

}  // namespace
}  // namespace sg
