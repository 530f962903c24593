// Qwen2 forward: Llama with q/k/v projection biases (always present in qwen2 checkpoints) and
// half-split RoPE (config.rope_style). The blocks are the family's shared ones (forward_llama.cc).
#include "engine/model/forward.h"

namespace sg {

void ForwardQwen2(const ForwardContext& ctx, const ForwardBatch& batch, float* logits) {
  const ModelConfig& c = ctx.model->config;
  const int64_t t = static_cast<int64_t>(batch.token_ids.size());
  EmbedTokens(ctx, batch);
  PrepareRope(ctx, batch);
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    NormRows(ctx, ctx.floats->layers[layer].attn_norm, t);
    ReportIntermediate(ctx, "attn_in", layer, ctx.act->xn, t, c.hidden_size);
    ProjectQkv(ctx, layer, t);  // q = xn wq^T + bq, k = xn wk^T + bk, v = xn wv^T + bv
    RotateQk(ctx, batch);
    ReportIntermediate(ctx, "q", layer, ctx.act->q, t, c.num_heads * c.head_dim);
    ReportIntermediate(ctx, "k", layer, ctx.act->k, t, c.num_kv_heads * c.head_dim);
    AttentionBlock(ctx, layer, t);
    FeedForwardBlock(ctx, layer, t);
  }
  OutputLogits(ctx, batch, logits);
}

}  // namespace sg
