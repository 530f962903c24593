#include "test_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace sg::testing {
namespace {

TensorView AddTensor(TestModel& tm, std::vector<int64_t> shape, std::mt19937& rng, float scale,
                     float offset) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float>& buf = tm.buffers.emplace_back(static_cast<size_t>(n));
  for (float& v : buf) v = offset + scale * dist(rng);
  TensorView t;
  t.type = DType::kF32;
  t.shape = std::move(shape);
  t.data = reinterpret_cast<const std::byte*>(buf.data());
  t.nbytes = static_cast<uint64_t>(n) * sizeof(float);
  return t;
}

// out = w x for w {rows, cols} f32, in double.
std::vector<double> Linear(const TensorView& w, const std::vector<double>& x) {
  const float* p = reinterpret_cast<const float*>(w.data);
  const int64_t rows = w.shape[0], cols = w.shape[1];
  std::vector<double> y(static_cast<size_t>(rows), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += static_cast<double>(p[r * cols + c]) * x[c];
    y[r] = s;
  }
  return y;
}

const float* F(const TensorView& t) { return reinterpret_cast<const float*>(t.data); }

void RmsNormInPlace(double* x, int64_t n, const float* w, double eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const double inv = 1.0 / std::sqrt(ss / static_cast<double>(n) + eps);
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] * inv * w[i];
}

void Rope(double* head, int64_t d, int64_t pos, const ModelConfig& c) {
  for (int64_t i = 0; i < d / 2; ++i) {
    const double angle = static_cast<double>(pos) * c.rope_inv_freq[i];
    const int64_t a = c.rope_style == RopeStyle::kInterleaved ? 2 * i : i;
    const int64_t b = c.rope_style == RopeStyle::kInterleaved ? 2 * i + 1 : i + d / 2;
    const double x0 = head[a], x1 = head[b];
    head[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
    head[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
  }
}

}  // namespace

std::unique_ptr<TestModel> MakeTinyModel(const TinySpec& s) {
  auto tm = std::make_unique<TestModel>();
  std::mt19937 rng(s.seed);
  ModelConfig& c = tm->model.config;
  c.arch = s.arch;
  c.vocab_size = s.vocab;
  c.hidden_size = s.hidden;
  c.intermediate_size = s.inter;
  c.num_layers = s.layers;
  c.num_heads = s.heads;
  c.num_kv_heads = s.kv_heads;
  c.head_dim = s.head_dim;
  c.max_context = 1024;
  c.rms_norm_eps = 1e-5f;
  c.rope_theta = 10000.0f;
  c.rope_style = s.arch == Arch::kLlama ? RopeStyle::kInterleaved : RopeStyle::kHalves;
  // Written here rather than by DefaultRopeInvFreq so the test does not depend on model_config.cc;
  // a larger base frequency than usual makes positions matter even in a tiny head.
  for (int64_t i = 0; i < s.head_dim / 2; ++i) {
    c.rope_inv_freq.push_back(
        static_cast<float>(std::pow(100.0, -2.0 * static_cast<double>(i) / s.head_dim)));
  }
  c.has_qkv_bias = s.arch == Arch::kQwen2;
  c.has_qk_norm = s.arch == Arch::kQwen3;
  const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  const float in_scale = 1.0f / std::sqrt(static_cast<float>(s.hidden));
  ModelWeights& w = tm->model.weights;
  w.token_embedding = AddTensor(*tm, {s.vocab, s.hidden}, rng, 1.0f, 0.0f);
  for (int64_t l = 0; l < s.layers; ++l) {
    LayerWeights L;
    L.attn_norm = AddTensor(*tm, {s.hidden}, rng, 0.1f, 1.0f);
    L.wq = AddTensor(*tm, {q, s.hidden}, rng, in_scale, 0.0f);
    L.wk = AddTensor(*tm, {kv, s.hidden}, rng, in_scale, 0.0f);
    L.wv = AddTensor(*tm, {kv, s.hidden}, rng, in_scale, 0.0f);
    L.wo = AddTensor(*tm, {s.hidden, q}, rng, 1.0f / std::sqrt(static_cast<float>(q)), 0.0f);
    if (c.has_qkv_bias) {
      L.bq = AddTensor(*tm, {q}, rng, 0.2f, 0.0f);
      L.bk = AddTensor(*tm, {kv}, rng, 0.2f, 0.0f);
      L.bv = AddTensor(*tm, {kv}, rng, 0.2f, 0.0f);
    }
    if (c.has_qk_norm) {
      L.q_norm = AddTensor(*tm, {s.head_dim}, rng, 0.1f, 1.0f);
      L.k_norm = AddTensor(*tm, {s.head_dim}, rng, 0.1f, 1.0f);
    }
    L.ffn_norm = AddTensor(*tm, {s.hidden}, rng, 0.1f, 1.0f);
    L.w_gate = AddTensor(*tm, {s.inter, s.hidden}, rng, in_scale, 0.0f);
    L.w_up = AddTensor(*tm, {s.inter, s.hidden}, rng, in_scale, 0.0f);
    L.w_down =
        AddTensor(*tm, {s.hidden, s.inter}, rng, 1.0f / std::sqrt(static_cast<float>(s.inter)), 0);
    w.layers.push_back(L);
  }
  w.output_norm = AddTensor(*tm, {s.hidden}, rng, 0.1f, 1.0f);
  w.output = AddTensor(*tm, {s.vocab, s.hidden}, rng, in_scale, 0.0f);
  return tm;
}

std::vector<double> ReferenceLogits(const Model& model, std::span<const int32_t> tokens) {
  const ModelConfig& c = model.config;
  const ModelWeights& w = model.weights;
  const int64_t n = static_cast<int64_t>(tokens.size()), h = c.hidden_size, d = c.head_dim;
  const int64_t group = c.num_heads / c.num_kv_heads;
  std::vector<std::vector<double>> x(n, std::vector<double>(h));
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t i = 0; i < h; ++i) x[t][i] = F(w.token_embedding)[tokens[t] * h + i];
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& L = w.layers[l];
    std::vector<std::vector<double>> q(n), k(n), v(n);
    for (int64_t t = 0; t < n; ++t) {
      std::vector<double> xn = x[t];
      RmsNormInPlace(xn.data(), h, F(L.attn_norm), c.rms_norm_eps);
      q[t] = Linear(L.wq, xn);
      k[t] = Linear(L.wk, xn);
      v[t] = Linear(L.wv, xn);
      if (!L.bq.empty()) {
        for (size_t i = 0; i < q[t].size(); ++i) q[t][i] += F(L.bq)[i];
        for (size_t i = 0; i < k[t].size(); ++i) k[t][i] += F(L.bk)[i];
        for (size_t i = 0; i < v[t].size(); ++i) v[t][i] += F(L.bv)[i];
      }
      for (int64_t hd = 0; hd < c.num_heads; ++hd) {
        if (!L.q_norm.empty()) RmsNormInPlace(&q[t][hd * d], d, F(L.q_norm), c.rms_norm_eps);
        Rope(&q[t][hd * d], d, t, c);
      }
      for (int64_t hd = 0; hd < c.num_kv_heads; ++hd) {
        if (!L.k_norm.empty()) RmsNormInPlace(&k[t][hd * d], d, F(L.k_norm), c.rms_norm_eps);
        Rope(&k[t][hd * d], d, t, c);
      }
    }
    for (int64_t t = 0; t < n; ++t) {
      std::vector<double> attn(static_cast<size_t>(c.num_heads * d), 0.0);
      for (int64_t hd = 0; hd < c.num_heads; ++hd) {
        const int64_t kvh = hd / group;
        std::vector<double> p(static_cast<size_t>(t + 1));
        double mx = -1e300, sum = 0;
        for (int64_t s = 0; s <= t; ++s) {
          double dot = 0;
          for (int64_t i = 0; i < d; ++i) dot += q[t][hd * d + i] * k[s][kvh * d + i];
          p[s] = dot / std::sqrt(static_cast<double>(d));
          mx = std::max(mx, p[s]);
        }
        for (double& e : p) sum += (e = std::exp(e - mx));
        for (int64_t s = 0; s <= t; ++s) {
          for (int64_t i = 0; i < d; ++i) attn[hd * d + i] += p[s] / sum * v[s][kvh * d + i];
        }
      }
      const std::vector<double> o = Linear(L.wo, attn);
      for (int64_t i = 0; i < h; ++i) x[t][i] += o[i];
    }
    for (int64_t t = 0; t < n; ++t) {
      std::vector<double> xn = x[t];
      RmsNormInPlace(xn.data(), h, F(L.ffn_norm), c.rms_norm_eps);
      std::vector<double> g = Linear(L.w_gate, xn);
      const std::vector<double> u = Linear(L.w_up, xn);
      for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const std::vector<double> o = Linear(L.w_down, g);
      for (int64_t i = 0; i < h; ++i) x[t][i] += o[i];
    }
  }
  std::vector<double> logits;
  for (int64_t t = 0; t < n; ++t) {
    RmsNormInPlace(x[t].data(), h, F(w.output_norm), c.rms_norm_eps);
    const std::vector<double> row = Linear(w.output, x[t]);
    logits.insert(logits.end(), row.begin(), row.end());
  }
  return logits;
}

std::vector<float> StepAlone(Executor& exec, KvAllocation& kv, std::span<const int32_t> tokens,
                             int64_t start, int64_t chunk) {
  const int64_t vocab = exec.model().config.vocab_size;
  std::vector<float> all;
  for (int64_t s = start; s < static_cast<int64_t>(tokens.size()); s += chunk) {
    const int64_t n = std::min<int64_t>(chunk, static_cast<int64_t>(tokens.size()) - s);
    StepSequence seq{tokens.subspan(static_cast<size_t>(s), static_cast<size_t>(n)), s, &kv, true};
    std::vector<float> logits(static_cast<size_t>(n * vocab));
    Status st = exec.Step({&seq, 1}, logits);
    EXPECT_TRUE(st.ok()) << st.ToString();
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

}  // namespace sg::testing
