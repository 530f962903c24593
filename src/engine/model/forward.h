// The forward pass of a step, one straight-line function per architecture (forward_<arch>.cc),
// built from the shared blocks below (implemented in forward_llama.cc, the base of the family).
//
// A step runs T tokens that may belong to different sequences (prefill chunks and single decode
// tokens together). Every token carries its own position; all projections run as one MatMul over
// the T rows. Attention, the only part that mixes tokens, goes through AttentionBackend, which the
// runtime implements over its KV block pool (so this layer does not depend on the runtime).
//
// Thread rules: called by the engine thread only; the math is split on ctx.pool. No allocation:
// every intermediate lives in the caller's Activations, sized once for the largest step.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "engine/core/thread_pool.h"
#include "engine/model/model.h"

namespace sg {

// Named intermediates of one step, f32 row-major. T = max tokens per step, R = max logit rows.
// H, I, Nh, Nkv, D as in model.h. The names are what the intermediate hook reports.
struct Activations {
  float* x = nullptr;        // "x"        {T, H}      residual stream (embeddings, then + blocks)
  float* xn = nullptr;       // "attn_in" / "ffn_in" {T, H}  RMSNorm(x), input of projections
  float* q = nullptr;        // "q"        {T, Nh*D}   after bias / qk-norm / RoPE
  float* k = nullptr;        // "k"        {T, Nkv*D}  after bias / qk-norm / RoPE
  float* v = nullptr;        // "v"        {T, Nkv*D}
  float* attn = nullptr;     // "attn"     {T, Nh*D}   attention output per head, before wo
  float* proj = nullptr;     // "attn_out" / "ffn_out" {T, H}  wo / w_down output
  float* gate = nullptr;     // "ffn_act"  {T, I}      gate proj, then silu(gate) * up in place
  float* up = nullptr;       //            {T, I}      up proj
  float* head_in = nullptr;  // "out_in"   {R, H}      final-normed rows whose logits are wanted
  float* rope = nullptr;     //            {T, D}      each token's RoPE table (RopeCosSin)
  // Input quantization scratch of the matmuls: MatMulScratchBytes(T, max(H, I, Nh*D)) bytes.
  std::span<std::byte> matmul_scratch;
};

// Small per-layer vectors converted to f32 once (they may be f16/bf16 in the file).
// nullptr = absent in this model.
struct LayerFloats {
  const float* attn_norm = nullptr;  // {H}
  const float* ffn_norm = nullptr;   // {H}
  const float* bq = nullptr;         // {Nh*D}
  const float* bk = nullptr;         // {Nkv*D}
  const float* bv = nullptr;         // {Nkv*D}
  const float* q_norm = nullptr;     // {D}
  const float* k_norm = nullptr;     // {D}
};

struct FloatWeights {
  std::vector<LayerFloats> layers;
  const float* output_norm = nullptr;  // {H}
};

// The seam to the KV cache. For every token t of the step, Attend stores k[t] and v[t] at the
// token's position in its sequence's cache for `layer`, then writes attn[t] = causal attention of
// q[t] over that sequence's positions [0, pos_t] (GQA, scale 1/sqrt(D)).
// q, attn: {T, Nh*D}; k, v: {T, Nkv*D}; q and k already rotated.
class AttentionBackend {
 public:
  virtual ~AttentionBackend() = default;
  virtual void Attend(int64_t layer, const float* q, const float* k, const float* v,
                      float* attn) = 0;
};

// Optional observer of named intermediates (for dumps and diffs against a reference).
// layer = -1 for tensors outside the layers. Called on the engine thread.
using IntermediateHook = void (*)(void* user, std::string_view name, int64_t layer,
                                  const float* data, int64_t rows, int64_t cols);

struct ForwardBatch {
  std::span<const int32_t> token_ids;   // T ids, already validated in [0, vocab)
  std::span<const int32_t> positions;   // T positions, each in its own sequence
  std::span<const int32_t> logit_rows;  // R batch rows whose logits are wanted, output order
};

struct ForwardContext {
  const Model* model = nullptr;
  const FloatWeights* floats = nullptr;
  Activations* act = nullptr;
  AttentionBackend* attention = nullptr;
  ThreadPool* pool = nullptr;
  IntermediateHook hook = nullptr;
  void* hook_user = nullptr;
};

// Architecture step functions: write R x V logits (row r for batch.logit_rows[r]) into `logits`.
void ForwardLlama(const ForwardContext& ctx, const ForwardBatch& batch, float* logits);
void ForwardQwen2(const ForwardContext& ctx, const ForwardBatch& batch, float* logits);
void ForwardQwen3(const ForwardContext& ctx, const ForwardBatch& batch, float* logits);

using ForwardFn = void (*)(const ForwardContext&, const ForwardBatch&, float*);
ForwardFn ForwardForArch(Arch arch);

// Shared blocks (forward_llama.cc). t = number of tokens in the step.
void ReportIntermediate(const ForwardContext& ctx, std::string_view name, int64_t layer,
                        const float* data, int64_t rows, int64_t cols);
// act.x = token_embedding[ids].
void EmbedTokens(const ForwardContext& ctx, const ForwardBatch& batch);
// act.xn = RMSNorm(act.x) * weight.
void NormRows(const ForwardContext& ctx, const float* weight, int64_t t);
// act.q/k/v = xn @ wq/wk/wv^T (+ biases when the model has them).
void ProjectQkv(const ForwardContext& ctx, int64_t layer, int64_t t);
// RMSNorm of every head of q and k with q_norm / k_norm (qwen3).
void NormHeads(const ForwardContext& ctx, int64_t layer, int64_t t);
// act.rope = each token's RoPE table (RopeCosSin at its position); once per step, for all layers.
void PrepareRope(const ForwardContext& ctx, const ForwardBatch& batch);
// RoPE on q and k at each token's own position (the tables of PrepareRope).
void RotateQk(const ForwardContext& ctx, const ForwardBatch& batch);
// attention (KV store + attend), wo, x += result.
void AttentionBlock(const ForwardContext& ctx, int64_t layer, int64_t t);
// ffn norm, silu(gate) * up, w_down, x += result.
void FeedForwardBlock(const ForwardContext& ctx, int64_t layer, int64_t t);
// Gathers logit rows, final RMSNorm, output projection into logits {R, V}.
void OutputLogits(const ForwardContext& ctx, const ForwardBatch& batch, float* logits);

}  // namespace sg
