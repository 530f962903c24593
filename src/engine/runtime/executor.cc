#include "engine/runtime/executor.h"

#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <utility>

#include "engine/kernels/matmul.h"
#include "engine/runtime/attention.h"

namespace sg {

// The runtime side of the forward's attention seam: stores each token's K/V into its sequence's
// blocks, then runs one AttendHead per (token, query head) on the pool.
class Executor::KvAttention final : public AttentionBackend {
 public:
  KvAttention(Executor* owner) : e_(owner) {}

  void Attend(int64_t layer, const float* q, const float* k, const float* v, float* attn) override {
    const ModelConfig& c = e_->model_.config;
    const int64_t kv_row = c.num_kv_heads * c.head_dim;
    for (int64_t t = 0; t < num_tokens_; ++t) {
      StoreKv(*e_->kv_, e_->seq_blocks_[e_->token_seq_[t]], layer, e_->positions_[t],
              k + t * kv_row, v + t * kv_row);
    }
    layer_ = layer;
    q_ = q;
    out_ = attn;
    e_->pool_.ParallelFor(num_tokens_ * c.num_heads,
                          [this](int64_t b, int64_t e) { AttendRange(b, e); });
  }

  int64_t num_tokens_ = 0;  // set by Step before the forward

 private:
  void AttendRange(int64_t begin, int64_t end) const {
    const ModelConfig& c = e_->model_.config;
    const int64_t d = c.head_dim, group = c.num_heads / c.num_kv_heads;
    AttentionArgs args;
    args.pool = e_->kv_.get();
    args.layer = layer_;
    args.scale = 1.0f / std::sqrt(static_cast<float>(d));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t t = i / c.num_heads, h = i % c.num_heads;
      args.blocks = e_->seq_blocks_[e_->token_seq_[t]];
      args.kv_head = h / group;
      args.num_positions = e_->positions_[t] + 1;  // causal: [0, pos]
      AttendHead(args, q_ + i * d, out_ + i * d);  // row i = t * Nh + h of {T * Nh, D}
    }
  }

  Executor* e_;
  int64_t layer_ = 0;
  const float* q_ = nullptr;
  float* out_ = nullptr;
};

namespace {

Status CheckConfig(const Model& m) {
  const ModelConfig& c = m.config;
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.intermediate_size <= 0 || c.num_layers <= 0 ||
      c.num_heads <= 0 || c.num_kv_heads <= 0 || c.head_dim <= 0) {
    return InvalidArgumentError("model config: sizes must be positive");
  }
  if (c.num_heads % c.num_kv_heads != 0) {
    return InvalidArgumentError("model config: num_heads must be a multiple of num_kv_heads");
  }
  if (c.head_dim % 2 != 0 || static_cast<int64_t>(c.rope_inv_freq.size()) != c.head_dim / 2) {
    return InvalidArgumentError("model config: rope_inv_freq must have head_dim/2 entries");
  }
  if (static_cast<int64_t>(m.weights.layers.size()) != c.num_layers) {
    return InvalidArgumentError("model: layer count does not match the config");
  }
  if (m.weights.token_embedding.empty() || m.weights.output.empty()) {
    return InvalidArgumentError("model: missing token embedding or output weights");
  }
  return OkStatus();
}

// Appends t as f32 to `out` and records its offset; -1 for an absent optional tensor.
Status AppendFloats(const TensorView& t, int64_t expect, bool required, const char* what,
                    int64_t layer, std::vector<float>& out, int64_t* offset) {
  *offset = -1;
  if (t.empty()) {
    if (!required) return OkStatus();
    return InvalidArgumentError(std::string("model: missing ") + what + " of layer " +
                                std::to_string(layer));
  }
  if (t.type != DType::kF32 && t.type != DType::kF16 && t.type != DType::kBF16) {
    return UnimplementedError(std::string("model: ") + what + " must be f32, f16 or bf16");
  }
  if (t.numel() != expect) {
    return InvalidArgumentError(std::string("model: ") + what + " of layer " +
                                std::to_string(layer) + " has " + std::to_string(t.numel()) +
                                " elements, expected " + std::to_string(expect));
  }
  *offset = static_cast<int64_t>(out.size());
  out.resize(out.size() + static_cast<size_t>(expect));
  ToFloat(t, out.data() + *offset);
  return OkStatus();
}

}  // namespace

Executor::Executor(const Model& model, ThreadPool& pool, const ExecutorOptions& options)
    : model_(model), pool_(pool), options_(options) {}

Executor::~Executor() = default;

StatusOr<std::unique_ptr<Executor>> Executor::Create(const Model& model, ThreadPool& pool,
                                                     const ExecutorOptions& options) {
  SG_RETURN_IF_ERROR(CheckConfig(model));
  const ModelConfig& c = model.config;
  if (options.max_batch_tokens <= 0 || options.max_sequences <= 0 ||
      options.max_batch_tokens > (int64_t{1} << 24) || options.max_sequences > (int64_t{1} << 20)) {
    return InvalidArgumentError("executor: max_batch_tokens and max_sequences out of range");
  }
  auto e = std::unique_ptr<Executor>(new Executor(model, pool, options));
  e->forward_ = ForwardForArch(c.arch);
  if (e->forward_ == nullptr) return UnimplementedError("executor: no forward for architecture");
  SG_ASSIGN_OR_RETURN(
      e->kv_, KvBlockPool::Create({c.num_layers, c.num_kv_heads, c.head_dim},
                                  options.kv_token_budget, options.max_tokens_per_sequence));

  // Small weights to f32: offsets first (the vector may still grow), pointers after.
  struct Offsets {
    int64_t attn_norm, ffn_norm, bq, bk, bv, q_norm, k_norm;
  };
  std::vector<Offsets> offs(static_cast<size_t>(c.num_layers));
  const int64_t q_cols = c.num_heads * c.head_dim, kv_cols = c.num_kv_heads * c.head_dim;
  const bool qk_norm = c.arch == Arch::kQwen3;
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& w = model.weights.layers[l];
    Offsets& o = offs[l];
    std::vector<float>& s = e->small_weights_;
    SG_RETURN_IF_ERROR(
        AppendFloats(w.attn_norm, c.hidden_size, true, "attn_norm", l, s, &o.attn_norm));
    SG_RETURN_IF_ERROR(
        AppendFloats(w.ffn_norm, c.hidden_size, true, "ffn_norm", l, s, &o.ffn_norm));
    SG_RETURN_IF_ERROR(AppendFloats(w.bq, q_cols, false, "q bias", l, s, &o.bq));
    SG_RETURN_IF_ERROR(AppendFloats(w.bk, kv_cols, false, "k bias", l, s, &o.bk));
    SG_RETURN_IF_ERROR(AppendFloats(w.bv, kv_cols, false, "v bias", l, s, &o.bv));
    SG_RETURN_IF_ERROR(AppendFloats(w.q_norm, c.head_dim, qk_norm, "q_norm", l, s, &o.q_norm));
    SG_RETURN_IF_ERROR(AppendFloats(w.k_norm, c.head_dim, qk_norm, "k_norm", l, s, &o.k_norm));
  }
  int64_t out_norm = -1;
  SG_RETURN_IF_ERROR(AppendFloats(model.weights.output_norm, c.hidden_size, true, "output_norm", -1,
                                  e->small_weights_, &out_norm));
  auto ptr = [&](int64_t off) -> const float* {
    return off < 0 ? nullptr : e->small_weights_.data() + off;
  };
  for (const Offsets& o : offs) {
    e->floats_.layers.push_back({ptr(o.attn_norm), ptr(o.ffn_norm), ptr(o.bq), ptr(o.bk), ptr(o.bv),
                                 ptr(o.q_norm), ptr(o.k_norm)});
  }
  e->floats_.output_norm = ptr(out_norm);

  // Workspace: one buffer carved into the named activations (see forward.h for shapes).
  const int64_t t = options.max_batch_tokens;
  const int64_t sizes[] = {t * c.hidden_size,
                           t * c.hidden_size,
                           t * q_cols,
                           t * kv_cols,
                           t * kv_cols,
                           t * q_cols,
                           t * c.hidden_size,
                           t * c.intermediate_size,
                           t * c.intermediate_size,
                           t * c.hidden_size,
                           t * c.head_dim};
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  try {
    e->workspace_.resize(static_cast<size_t>(total));
    e->matmul_scratch_.resize(static_cast<size_t>(
        MatMulScratchBytes(t, std::max({c.hidden_size, c.intermediate_size, q_cols}))));
    e->token_ids_.resize(static_cast<size_t>(t));
    e->positions_.resize(static_cast<size_t>(t));
    e->logit_rows_.resize(static_cast<size_t>(t));
    e->token_seq_.resize(static_cast<size_t>(t));
    e->seq_blocks_.resize(static_cast<size_t>(options.max_sequences));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("executor: cannot allocate a workspace of " +
                                  std::to_string(total * 4) + " bytes");
  }
  float* p = e->workspace_.data();
  float** slots[] = {&e->act_.x,  &e->act_.xn,      &e->act_.q,    &e->act_.k,
                     &e->act_.v,  &e->act_.attn,    &e->act_.proj, &e->act_.gate,
                     &e->act_.up, &e->act_.head_in, &e->act_.rope};
  for (size_t i = 0; i < std::size(slots); ++i) {
    *slots[i] = p;
    p += sizes[i];
  }
  e->act_.matmul_scratch = e->matmul_scratch_;
  e->attention_ = std::make_unique<KvAttention>(e.get());
  return e;
}

int64_t Executor::CountLogitRows(std::span<const StepSequence> batch) {
  int64_t rows = 0;
  for (const StepSequence& s : batch) {
    rows += s.all_logits ? static_cast<int64_t>(s.tokens.size()) : (s.tokens.empty() ? 0 : 1);
  }
  return rows;
}

Status Executor::Validate(std::span<const StepSequence> batch, std::span<float> logits) const {
  const int64_t vocab = model_.config.vocab_size;
  if (static_cast<int64_t>(batch.size()) > options_.max_sequences) {
    return OutOfRangeError("step has " + std::to_string(batch.size()) +
                           " sequences, more than max_sequences " +
                           std::to_string(options_.max_sequences));
  }
  int64_t total = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const StepSequence& s = batch[i];
    const std::string which = "sequence " + std::to_string(i);
    if (s.kv == nullptr || s.kv->pool() != kv_.get()) {
      return InvalidArgumentError(which + ": KV allocation missing or from another executor");
    }
    for (size_t j = 0; j < i; ++j) {
      if (batch[j].kv == s.kv) return InvalidArgumentError(which + ": appears twice in a step");
    }
    if (s.tokens.empty()) return InvalidArgumentError(which + ": no tokens");
    if (s.start_pos < 0 || s.start_pos > s.kv->length()) {
      return InvalidArgumentError(which + ": start position " + std::to_string(s.start_pos) +
                                  " outside [0, " + std::to_string(s.kv->length()) + "]");
    }
    for (int32_t id : s.tokens) {
      if (id < 0 || id >= vocab) {
        return InvalidArgumentError(which + ": token id " + std::to_string(id) + " outside [0, " +
                                    std::to_string(vocab) + ")");
      }
    }
    total += static_cast<int64_t>(s.tokens.size());
  }
  if (total > options_.max_batch_tokens) {
    return OutOfRangeError("step has " + std::to_string(total) +
                           " tokens, more than max_batch_tokens " +
                           std::to_string(options_.max_batch_tokens));
  }
  const int64_t need = CountLogitRows(batch) * vocab;
  if (static_cast<int64_t>(logits.size()) < need) {
    return InvalidArgumentError("logits buffer holds " + std::to_string(logits.size()) +
                                " floats, the step needs " + std::to_string(need));
  }
  return OkStatus();
}

Status Executor::Step(std::span<const StepSequence> batch, std::span<float> logits) {
  if (batch.empty()) return OkStatus();
  SG_RETURN_IF_ERROR(Validate(batch, logits));
  for (const StepSequence& s : batch) {
    SG_RETURN_IF_ERROR(s.kv->Reserve(s.start_pos + static_cast<int64_t>(s.tokens.size())));
  }
  int64_t t = 0, rows = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const StepSequence& s = batch[i];
    seq_blocks_[i] = s.kv->blocks();
    const int64_t n = static_cast<int64_t>(s.tokens.size());
    for (int64_t j = 0; j < n; ++j, ++t) {
      token_ids_[t] = s.tokens[j];
      positions_[t] = static_cast<int32_t>(s.start_pos + j);
      token_seq_[t] = static_cast<int32_t>(i);
      if (s.all_logits || j == n - 1) logit_rows_[rows++] = static_cast<int32_t>(t);
    }
  }
  attention_->num_tokens_ = t;
  ForwardContext ctx;
  ctx.model = &model_;
  ctx.floats = &floats_;
  ctx.act = &act_;
  ctx.attention = attention_.get();
  ctx.pool = &pool_;
  ctx.hook = hook_;
  ctx.hook_user = hook_user_;
  ForwardBatch fb;
  fb.token_ids = std::span<const int32_t>(token_ids_.data(), static_cast<size_t>(t));
  fb.positions = std::span<const int32_t>(positions_.data(), static_cast<size_t>(t));
  fb.logit_rows = std::span<const int32_t>(logit_rows_.data(), static_cast<size_t>(rows));
  forward_(ctx, fb, logits.data());
  for (const StepSequence& s : batch) {
    s.kv->set_length(s.start_pos + static_cast<int64_t>(s.tokens.size()));
  }
  return OkStatus();
}

void Executor::SetIntermediateHook(IntermediateHook hook, void* user) {
  hook_ = hook;
  hook_user_ = user;
}

}  // namespace sg
