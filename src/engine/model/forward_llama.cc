// Llama forward, and the blocks shared by the Llama family (qwen2/qwen3 reuse them).
//   x = embed(ids)
//   per layer: x += wo(attn(rope(q(norm(x))), rope(k(norm(x))), v(norm(x))))
//              x += w_down(silu(w_gate(norm(x))) * w_up(norm(x)))
//   logits = output(norm(x[wanted rows]))
// Llama applies q/k/v biases too when a file has them.
#include <cmath>
#include <cstring>

#include "engine/kernels/matmul.h"
#include "engine/kernels/ops.h"
#include "engine/model/forward.h"

namespace sg {
namespace {

// Runs f(begin, end) over [0, n) on the pool (FunctionRef: no heap allocation in the step).
template <typename F>
void ForRows(ThreadPool& pool, int64_t n, const F& f, int64_t grain = 1) {
  pool.ParallelFor(n, f, grain);
}

void AddBiasRows(ThreadPool& pool, float* y, const float* bias, int64_t rows, int64_t cols) {
  if (bias == nullptr) return;
  ForRows(pool, rows, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) AddInPlace(y + r * cols, bias, cols);
  });
}

// x += in @ w^T. Without an observer the product is added straight into the residual stream (the
// same float additions as AddInPlace); with one, it goes through act.proj so it can be reported.
void AddProjection(const ForwardContext& ctx, const TensorView& w, const float* in, int64_t t,
                   std::string_view name, int64_t layer) {
  Activations& a = *ctx.act;
  const int64_t h = ctx.model->config.hidden_size;
  if (ctx.hook == nullptr) {
    MatMul(w, in, t, a.x, *ctx.pool, a.matmul_scratch, /*accumulate=*/true);
    return;
  }
  MatMul(w, in, t, a.proj, *ctx.pool, a.matmul_scratch);
  ctx.hook(ctx.hook_user, name, layer, a.proj, t, h);
  AddInPlace(a.x, a.proj, t * h);
}

}  // namespace

void ReportIntermediate(const ForwardContext& ctx, std::string_view name, int64_t layer,
                        const float* data, int64_t rows, int64_t cols) {
  if (ctx.hook != nullptr) ctx.hook(ctx.hook_user, name, layer, data, rows, cols);
}

void EmbedTokens(const ForwardContext& ctx, const ForwardBatch& batch) {
  const ModelConfig& c = ctx.model->config;
  GetRows(ctx.model->weights.token_embedding, batch.token_ids, ctx.act->x);
  ReportIntermediate(ctx, "x", -1, ctx.act->x, static_cast<int64_t>(batch.token_ids.size()),
                     c.hidden_size);
}

void NormRows(const ForwardContext& ctx, const float* weight, int64_t t) {
  const ModelConfig& c = ctx.model->config;
  const int64_t h = c.hidden_size;
  const float* x = ctx.act->x;
  float* xn = ctx.act->xn;
  ForRows(*ctx.pool, t, [&](int64_t b, int64_t e) {
    RmsNorm(x + b * h, weight, e - b, h, c.rms_norm_eps, xn + b * h);
  });
}

void ProjectQkv(const ForwardContext& ctx, int64_t layer, int64_t t) {
  const ModelConfig& c = ctx.model->config;
  const LayerWeights& w = ctx.model->weights.layers[layer];
  const LayerFloats& f = ctx.floats->layers[layer];
  Activations& a = *ctx.act;
  const int64_t q_cols = c.num_heads * c.head_dim, kv_cols = c.num_kv_heads * c.head_dim;
  const MatMulOutput qkv[] = {{&w.wq, a.q}, {&w.wk, a.k}, {&w.wv, a.v}};
  MatMulMulti(qkv, a.xn, t, *ctx.pool, a.matmul_scratch);
  AddBiasRows(*ctx.pool, a.q, f.bq, t, q_cols);
  AddBiasRows(*ctx.pool, a.k, f.bk, t, kv_cols);
  AddBiasRows(*ctx.pool, a.v, f.bv, t, kv_cols);
}

void NormHeads(const ForwardContext& ctx, int64_t layer, int64_t t) {
  const ModelConfig& c = ctx.model->config;
  const LayerFloats& f = ctx.floats->layers[layer];
  Activations& a = *ctx.act;
  const int64_t d = c.head_dim;
  // q is {T * Nh, D} viewed per head; k is {T * Nkv, D}.
  ForRows(*ctx.pool, t, [&](int64_t b, int64_t e) {
    RmsNorm(a.q + b * c.num_heads * d, f.q_norm, (e - b) * c.num_heads, d, c.rms_norm_eps,
            a.q + b * c.num_heads * d);
    RmsNorm(a.k + b * c.num_kv_heads * d, f.k_norm, (e - b) * c.num_kv_heads, d, c.rms_norm_eps,
            a.k + b * c.num_kv_heads * d);
  });
}

void PrepareRope(const ForwardContext& ctx, const ForwardBatch& batch) {
  const ModelConfig& c = ctx.model->config;
  const int64_t d = c.head_dim;
  float* rope = ctx.act->rope;
  ForRows(*ctx.pool, static_cast<int64_t>(batch.positions.size()), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      RopeCosSin(d, batch.positions[r], c.rope_inv_freq.data(), rope + r * d);
    }
  });
}

void RotateQk(const ForwardContext& ctx, const ForwardBatch& batch) {
  const ModelConfig& c = ctx.model->config;
  Activations& a = *ctx.act;
  const int64_t d = c.head_dim;
  ForRows(*ctx.pool, static_cast<int64_t>(batch.positions.size()), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* cs = a.rope + r * d;
      ApplyRopeCosSin(a.q + r * c.num_heads * d, c.num_heads, d, cs, c.rope_style);
      ApplyRopeCosSin(a.k + r * c.num_kv_heads * d, c.num_kv_heads, d, cs, c.rope_style);
    }
  });
}

void AttentionBlock(const ForwardContext& ctx, int64_t layer, int64_t t) {
  const ModelConfig& c = ctx.model->config;
  Activations& a = *ctx.act;
  ctx.attention->Attend(layer, a.q, a.k, a.v, a.attn);
  ReportIntermediate(ctx, "attn", layer, a.attn, t, c.num_heads * c.head_dim);
  AddProjection(ctx, ctx.model->weights.layers[layer].wo, a.attn, t, "attn_out", layer);
}

void FeedForwardBlock(const ForwardContext& ctx, int64_t layer, int64_t t) {
  const ModelConfig& c = ctx.model->config;
  const LayerWeights& w = ctx.model->weights.layers[layer];
  Activations& a = *ctx.act;
  const int64_t inter = c.intermediate_size;
  NormRows(ctx, ctx.floats->layers[layer].ffn_norm, t);
  ReportIntermediate(ctx, "ffn_in", layer, a.xn, t, c.hidden_size);
  MatMulSwiGlu(w.w_gate, w.w_up, a.xn, t, a.gate, a.up, *ctx.pool, a.matmul_scratch);
  ReportIntermediate(ctx, "ffn_act", layer, a.gate, t, inter);
  AddProjection(ctx, w.w_down, a.gate, t, "ffn_out", layer);
  ReportIntermediate(ctx, "x", layer, a.x, t, c.hidden_size);
}

void OutputLogits(const ForwardContext& ctx, const ForwardBatch& batch, float* logits) {
  const ModelConfig& c = ctx.model->config;
  Activations& a = *ctx.act;
  const int64_t h = c.hidden_size;
  const int64_t rows = static_cast<int64_t>(batch.logit_rows.size());
  if (rows == 0) return;
  for (int64_t r = 0; r < rows; ++r) {
    std::memcpy(a.head_in + r * h, a.x + batch.logit_rows[r] * h, h * sizeof(float));
  }
  RmsNorm(a.head_in, ctx.floats->output_norm, rows, h, c.rms_norm_eps, a.head_in);
  ReportIntermediate(ctx, "out_in", -1, a.head_in, rows, h);
  MatMul(ctx.model->weights.output, a.head_in, rows, logits, *ctx.pool, a.matmul_scratch);
  ReportIntermediate(ctx, "logits", -1, logits, rows, c.vocab_size);
}

void ForwardLlama(const ForwardContext& ctx, const ForwardBatch& batch, float* logits) {
  const ModelConfig& c = ctx.model->config;
  const int64_t t = static_cast<int64_t>(batch.token_ids.size());
  EmbedTokens(ctx, batch);
  PrepareRope(ctx, batch);
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    NormRows(ctx, ctx.floats->layers[layer].attn_norm, t);
    ReportIntermediate(ctx, "attn_in", layer, ctx.act->xn, t, c.hidden_size);
    ProjectQkv(ctx, layer, t);  // + q/k/v biases if this llama file has them
    RotateQk(ctx, batch);
    ReportIntermediate(ctx, "q", layer, ctx.act->q, t, c.num_heads * c.head_dim);
    ReportIntermediate(ctx, "k", layer, ctx.act->k, t, c.num_kv_heads * c.head_dim);
    AttentionBlock(ctx, layer, t);
    FeedForwardBlock(ctx, layer, t);
  }
  OutputLogits(ctx, batch, logits);
}

ForwardFn ForwardForArch(Arch arch) {
  switch (arch) {
    case Arch::kLlama:
      return &ForwardLlama;
    case Arch::kQwen2:
      return &ForwardQwen2;
    case Arch::kQwen3:
      return &ForwardQwen3;
  }
  return nullptr;
}

}  // namespace sg
