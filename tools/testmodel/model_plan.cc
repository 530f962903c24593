#include "model_plan.h"

#include <cmath>
#include <cstring>
#include <numbers>

#include "engine/core/half.h"
#include "engine/quant/traits.h"

namespace sg::testmodel {
namespace {

// Standard deviation of logits: with the final normed hidden state at RMS ~1, output rows of
// std kLogitStd/sqrt(H) give logits of std ~kLogitStd, so the top-1 margin is usually > 1
// (measured on tiny models with tests/reference: median ~3, > 1 at ~80% of positions).
constexpr float kLogitStd = 14.0f;
constexpr float kTiedResidualGain = 24.0f;

// splitmix64: a tiny, well-mixed generator whose sequence is the same on every platform.
struct SplitMix64 {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1]: 53 random bits.
  double Uniform() { return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53; }
};

uint64_t HashName(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull ^ (seed * 0x9e3779b97f4a7c15ull);  // FNV-1a over the name
  for (unsigned char ch : name) {
    h ^= ch;
    h *= 0x100000001b3ull;
  }
  return h;
}

// Q4_K_M's rule (llama.cpp use_more_bits): the first and last eighth of layers and every third
// in between get more bits.
bool UseMoreBits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

// llama.cpp's fallback when a row is not a whole number of 256-element super-blocks.
DType FallbackFor(DType t) {
  switch (t) {
    case DType::kQ4_K:
      return DType::kQ5_0;
    case DType::kQ5_K:
      return DType::kQ5_1;
    case DType::kQ6_K:
      return DType::kQ8_0;
    default:
      return t;
  }
}

StatusOr<DType> ParseTypeName(const std::string& name) {
  for (uint32_t id = 0; id < 64; ++id) {
    std::optional<DTypeInfo> info = LookupDType(id);
    if (info && info->name == name) return info->type;
  }
  return InvalidArgumentError("unknown weight type '" + name + "'");
}

}  // namespace

std::vector<PlannedTensor> PlanTensors(const TestModelOptions& options, const TestModelShape& s) {
  std::vector<PlannedTensor> out;
  const float linear_h = 1.0f / std::sqrt(static_cast<float>(s.hidden));
  const float output_std = kLogitStd / std::sqrt(static_cast<float>(s.hidden));
  const int64_t q_dim = s.heads * s.head_dim, kv_dim = s.kv_heads * s.head_dim;
  const bool permute = options.arch == "llama";
  // Tied models: the final hidden state contains the input token's own embedding, and with the
  // embedding doubling as the output that token's logit would dominate (a model that repeats its
  // input). Larger block outputs (residual RMS ~kTiedResidualGain) drown the embedding term.
  const float block_gain = s.tied ? kTiedResidualGain : 1.0f;
  auto add = [&](std::string hf, std::string gguf, std::vector<int64_t> shape, TensorKind kind,
                 float stddev, int64_t layer) -> PlannedTensor& {
    PlannedTensor t;
    t.hf_name = std::move(hf);
    t.gguf_name = std::move(gguf);
    t.shape = std::move(shape);
    t.kind = kind;
    t.stddev = stddev;
    t.mean = kind == TensorKind::kNorm ? 1.0f : 0.0f;
    t.layer = layer;
    out.push_back(std::move(t));
    return out.back();
  };
  // Tied: the embedding doubles as the output, so it gets the output's scale.
  add("model.embed_tokens.weight", "token_embd.weight", {s.vocab, s.hidden}, TensorKind::kEmbedding,
      s.tied ? output_std : 1.0f, -1);
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string hf = "model.layers." + std::to_string(l) + ".";
    const std::string gg = "blk." + std::to_string(l) + ".";
    add(hf + "input_layernorm.weight", gg + "attn_norm.weight", {s.hidden}, TensorKind::kNorm, 0.1f,
        l);
    add(hf + "self_attn.q_proj.weight", gg + "attn_q.weight", {q_dim, s.hidden},
        TensorKind::kLinear, linear_h, l)
        .permute_heads = permute ? s.heads : 0;
    add(hf + "self_attn.k_proj.weight", gg + "attn_k.weight", {kv_dim, s.hidden},
        TensorKind::kLinear, linear_h, l)
        .permute_heads = permute ? s.kv_heads : 0;
    add(hf + "self_attn.v_proj.weight", gg + "attn_v.weight", {kv_dim, s.hidden},
        TensorKind::kLinear, linear_h, l)
        .is_attn_v = true;
    if (s.qkv_bias) {
      add(hf + "self_attn.q_proj.bias", gg + "attn_q.bias", {q_dim}, TensorKind::kBias, 0.2f, l);
      add(hf + "self_attn.k_proj.bias", gg + "attn_k.bias", {kv_dim}, TensorKind::kBias, 0.2f, l);
      add(hf + "self_attn.v_proj.bias", gg + "attn_v.bias", {kv_dim}, TensorKind::kBias, 0.2f, l);
    }
    if (s.qk_norm) {
      add(hf + "self_attn.q_norm.weight", gg + "attn_q_norm.weight", {s.head_dim},
          TensorKind::kNorm, 0.1f, l);
      add(hf + "self_attn.k_norm.weight", gg + "attn_k_norm.weight", {s.head_dim},
          TensorKind::kNorm, 0.1f, l);
    }
    add(hf + "self_attn.o_proj.weight", gg + "attn_output.weight", {s.hidden, q_dim},
        TensorKind::kLinear, block_gain / std::sqrt(static_cast<float>(q_dim)), l);
    add(hf + "post_attention_layernorm.weight", gg + "ffn_norm.weight", {s.hidden},
        TensorKind::kNorm, 0.1f, l);
    add(hf + "mlp.gate_proj.weight", gg + "ffn_gate.weight", {s.intermediate, s.hidden},
        TensorKind::kLinear, linear_h, l);
    add(hf + "mlp.up_proj.weight", gg + "ffn_up.weight", {s.intermediate, s.hidden},
        TensorKind::kLinear, linear_h, l);
    add(hf + "mlp.down_proj.weight", gg + "ffn_down.weight", {s.hidden, s.intermediate},
        TensorKind::kLinear, block_gain / std::sqrt(static_cast<float>(s.intermediate)), l)
        .is_ffn_down = true;
  }
  add("model.norm.weight", "output_norm.weight", {s.hidden}, TensorKind::kNorm, 0.1f, -1);
  if (!s.tied) {
    add("lm_head.weight", "output.weight", {s.vocab, s.hidden}, TensorKind::kOutput, output_std,
        -1);
  }
  return out;
}

StatusOr<DType> GgufTensorType(const std::string& type_name, const PlannedTensor& t,
                               const TestModelShape& s) {
  if (t.kind == TensorKind::kNorm || t.kind == TensorKind::kBias) return DType::kF32;
  DType type;
  if (type_name == "q4_K_M") {
    type = DType::kQ4_K;
    const bool is_output =
        t.kind == TensorKind::kOutput || (t.kind == TensorKind::kEmbedding && s.tied);
    if (is_output) type = DType::kQ6_K;
    if ((t.is_attn_v || t.is_ffn_down) && UseMoreBits(t.layer, s.layers)) type = DType::kQ6_K;
  } else {
    SG_ASSIGN_OR_RETURN(type, ParseTypeName(type_name));
    bool supported = false;
    for (DType t : SupportedWeightTypes()) supported = supported || t == type;
    if (!supported || GetQuantTraits(type) == nullptr) {
      return InvalidArgumentError("weight type '" + type_name + "' has no quantizer");
    }
  }
  const int64_t cols = t.shape.back();
  if (cols % GetDTypeInfo(type).block_elems != 0) type = FallbackFor(type);
  if (cols % GetDTypeInfo(type).block_elems != 0) {
    return InvalidArgumentError("tensor " + t.gguf_name + ": rows of " + std::to_string(cols) +
                                " elements do not fit " + std::string(DTypeName(type)) + " blocks");
  }
  return type;
}

StatusOr<DType> HfFloatType(const std::string& type_name) {
  if (type_name == "f32") return DType::kF32;
  if (type_name == "f16") return DType::kF16;
  if (type_name == "bf16") return DType::kBF16;
  return InvalidArgumentError("Hugging Face folders hold f32, f16 or bf16, not '" + type_name +
                              "'");
}

void GenerateValues(uint64_t seed, const PlannedTensor& t, std::vector<float>* out) {
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  out->resize(static_cast<size_t>(n));
  SplitMix64 rng{HashName(seed, t.hf_name)};
  // Box-Muller: two normals per pair of uniforms.
  for (int64_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(rng.Uniform()));
    const double a = 2.0 * std::numbers::pi * rng.Uniform();
    (*out)[static_cast<size_t>(i)] = t.mean + t.stddev * static_cast<float>(r * std::cos(a));
    if (i + 1 < n) {
      (*out)[static_cast<size_t>(i + 1)] = t.mean + t.stddev * static_cast<float>(r * std::sin(a));
    }
  }
}

void PermuteForGguf(std::vector<float>* w, int64_t rows, int64_t cols, int64_t heads) {
  const int64_t d = rows / heads, half = d / 2;
  std::vector<float> src(w->begin(), w->end());
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t j = 0; j < half; ++j) {
      for (int64_t t = 0; t < 2; ++t) {
        const int64_t dst_row = h * d + 2 * j + t;  // (head, pair j, member t)
        const int64_t src_row = h * d + t * half + j;
        std::memcpy(w->data() + dst_row * cols, src.data() + src_row * cols,
                    static_cast<size_t>(cols) * sizeof(float));
      }
    }
  }
}

StatusOr<std::vector<uint8_t>> EncodeRows(const float* values, int64_t rows, int64_t cols,
                                          DType type) {
  const std::optional<uint64_t> row_bytes = RowBytes(type, static_cast<uint64_t>(cols));
  if (!row_bytes) return InvalidArgumentError("rows do not fit the type's blocks");
  std::vector<uint8_t> bytes(*row_bytes * static_cast<uint64_t>(rows));
  const int64_t n = rows * cols;
  switch (type) {
    case DType::kF32:
      std::memcpy(bytes.data(), values, bytes.size());
      return bytes;
    case DType::kF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToF16(values[i]);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      }
      return bytes;
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = F32ToBf16(values[i]);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      }
      return bytes;
    default:
      break;
  }
  const QuantTraits* traits = GetQuantTraits(type);
  if (traits == nullptr || traits->quantize_row == nullptr) {
    return InvalidArgumentError("no quantizer for " + std::string(DTypeName(type)));
  }
  for (int64_t r = 0; r < rows; ++r) {
    traits->quantize_row(values + r * cols, bytes.data() + r * *row_bytes, cols);
  }
  return bytes;
}

}  // namespace sg::testmodel
