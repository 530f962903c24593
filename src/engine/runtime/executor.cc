#include "engine/runtime/executor.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <new>
#include <string>
#include <utility>

#include "engine/kernels/matmul.h"
#include "engine/runtime/attention.h"

namespace sg {

// The runtime side of the forward's attention seam: stores each token's K/V into its sequence's
// blocks, then runs one AttendGroup per (sequence, KV head, tile of tokens) on the pool, so a K/V
// block is widened once for every query head of its group and every token of the tile.
class Executor::KvAttention final : public AttentionBackend {
 public:
  explicit KvAttention(Executor* owner) : e_(owner) {}

  // Work items of a step at most: each sequence has Nkv heads times its token tiles, and the
  // tiles of all sequences number at most T + S.
  static int64_t MaxItems(const ModelConfig& c, const ExecutorOptions& o) {
    return c.num_kv_heads * (o.max_batch_tokens + o.max_sequences);
  }

  void Attend(int64_t layer, const float* q, const float* k, const float* v, float* attn) override {
    const ModelConfig& c = e_->model_.config;
    const int64_t kv_row = c.num_kv_heads * c.head_dim;
    e_->pool_.ParallelFor(num_tokens_, [&](int64_t b, int64_t end) {
      for (int64_t t = b; t < end; ++t) {
        StoreKv(*e_->kv_, e_->seq_blocks_[e_->token_seq_[t]], layer, e_->positions_[t],
                k + t * kv_row, v + t * kv_row);
      }
    });
    layer_ = layer;
    q_ = q;
    out_ = attn;
    // Items are claimed in order from a shared counter; they were listed longest first.
    std::atomic<int64_t> next{0};
    const int64_t n = num_items_;
    e_->pool_.Run([&](int) {
      for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) RunItem(items_[i]);
    });
  }

  // Lists the step's work items (no allocation: items_ has MaxItems capacity). Called by Step
  // after the token tables are filled.
  void Plan(int64_t num_tokens, int64_t num_sequences) {
    const ModelConfig& c = e_->model_.config;
    const int64_t group = c.num_heads / c.num_kv_heads;
    const int64_t tile = AttentionTileTokens(group);
    num_tokens_ = num_tokens;
    num_items_ = 0;
    // Sequence s owns batch rows [first, first + count); tiles from the last (the longest
    // windows) to the first, so the dynamic claim order ends on short items.
    int64_t first = 0;
    for (int64_t s = 0; s < num_sequences; ++s) {
      int64_t count = 0;
      while (first + count < num_tokens && e_->token_seq_[first + count] == s) ++count;
      for (int64_t t = (count - 1) / tile * tile; t >= 0; t -= tile) {
        for (int64_t h = 0; h < c.num_kv_heads; ++h) {
          items_[num_items_++] = {static_cast<int32_t>(s), static_cast<int32_t>(h),
                                  static_cast<int32_t>(first + t),
                                  static_cast<int32_t>(std::min(tile, count - t))};
        }
      }
      first += count;
    }
  }

  void Reserve(int64_t max_items) { items_.resize(static_cast<size_t>(max_items)); }

 private:
  struct Item {
    int32_t seq, kv_head, first_row, num_tokens;
  };

  void RunItem(const Item& it) const {
    const ModelConfig& c = e_->model_.config;
    const int64_t d = c.head_dim, group = c.num_heads / c.num_kv_heads;
    AttentionGroup g;
    g.pool = e_->kv_.get();
    g.blocks = e_->seq_blocks_[it.seq];
    g.layer = layer_;
    g.kv_head = it.kv_head;
    g.scale = 1.0f / std::sqrt(static_cast<float>(d));
    // Row (t, h) of q / out is {T, Nh, D}; the group's heads are kv_head * G .. + G - 1.
    const int64_t offset = it.first_row * c.num_heads * d + it.kv_head * group * d;
    g.q = q_ + offset;
    g.out = out_ + offset;
    g.token_stride = c.num_heads * d;
    g.heads = group;
    g.num_tokens = it.num_tokens;
    g.first_pos = e_->positions_[it.first_row];
    AttendGroup(g);
  }

  int64_t num_tokens_ = 0;
  int64_t num_items_ = 0;
  std::vector<Item> items_;
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
  if (c.head_dim > kMaxAttentionHeadDim) {
    return InvalidArgumentError("executor: head_dim " + std::to_string(c.head_dim) +
                                " is larger than the attention kernel's " +
                                std::to_string(kMaxAttentionHeadDim));
  }
  SG_ASSIGN_OR_RETURN(
      e->kv_, KvBlockPool::Create({c.num_layers, c.num_kv_heads, c.head_dim, options.kv_dtype},
                                  options.kv_token_budget, options.max_tokens_per_sequence,
                                  options.prefix_caching));

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
  try {
    e->attention_->Reserve(KvAttention::MaxItems(c, options));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("executor: cannot allocate the attention work list");
  }
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
    if (s.start_pos < s.kv->immutable_tokens() || s.start_pos > s.kv->length()) {
      return InvalidArgumentError(which + ": start position " + std::to_string(s.start_pos) +
                                  " outside [" + std::to_string(s.kv->immutable_tokens()) + ", " +
                                  std::to_string(s.kv->length()) + "]");
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
  attention_->Plan(t, static_cast<int64_t>(batch.size()));
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
