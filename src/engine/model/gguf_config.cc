#include "engine/model/gguf_config.h"

#include <cmath>
#include <cstring>
#include <string>

#include "engine/core/half.h"
#include "engine/model/config_check.h"

namespace sg {
namespace {

class MetadataReader {
 public:
  MetadataReader(const GgufFile& file, std::string prefix)
      : file_(file), prefix_(std::move(prefix)) {}

  // Key `<arch>.<suffix>`: its integer value, or NotFound / DataLoss naming the key.
  StatusOr<int64_t> RequiredInt(const std::string& suffix) const {
    const std::string key = prefix_ + suffix;
    const GgufValue* v = file_.Find(key);
    if (v == nullptr) return NotFoundError(file_.path() + ": missing metadata key '" + key + "'");
    return AsInt(key, *v);
  }
  StatusOr<int64_t> OptionalInt(const std::string& key, int64_t fallback) const {
    const GgufValue* v = file_.Find(key);
    if (v == nullptr) return fallback;
    return AsInt(key, *v);
  }
  StatusOr<double> OptionalFloat(const std::string& key, double fallback) const {
    const GgufValue* v = file_.Find(key);
    if (v == nullptr) return fallback;
    std::optional<double> d = v->AsFloat();
    if (!d || !std::isfinite(*d)) {
      return DataLossError(file_.path() + ": metadata key '" + key + "' has type " +
                           GgufTypeName(v->type) + ", expected a finite number");
    }
    return *d;
  }
  const std::string& prefix() const { return prefix_; }

 private:
  StatusOr<int64_t> AsInt(const std::string& key, const GgufValue& v) const {
    std::optional<int64_t> i = v.AsInt();
    if (!i) {
      return DataLossError(file_.path() + ": metadata key '" + key + "' has type " +
                           GgufTypeName(v.type) + ", expected an integer");
    }
    return *i;
  }

  const GgufFile& file_;
  std::string prefix_;
};

// Divides inv_freq by the per-pair factors of rope_freqs.weight (llama.cpp's Llama-3.1 scaling).
Status ApplyRopeFreqFactors(const GgufFile& file, const GgufTensorInfo& info,
                            std::vector<float>* inv_freq) {
  const std::string where = file.path() + ": tensor '" + info.name + "'";
  if (info.shape.size() != 1 || info.shape[0] != static_cast<int64_t>(inv_freq->size())) {
    return DataLossError(where + " has shape " + ShapeToString(info.shape) + ", expected [" +
                         std::to_string(inv_freq->size()) + "]");
  }
  if (info.type != DType::kF32 && info.type != DType::kF16) {
    return UnimplementedError(where + " has type " + std::string(DTypeName(info.type)) +
                              ", expected f32 or f16");
  }
  const TensorView view = file.View(info);
  for (size_t i = 0; i < inv_freq->size(); ++i) {
    float factor;
    if (info.type == DType::kF32) {
      std::memcpy(&factor, view.data + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, view.data + 2 * i, 2);
      factor = F16ToF32(h);
    }
    if (!std::isfinite(factor) || factor <= 0) {
      return DataLossError(where + " holds a factor that is not a finite positive number");
    }
    (*inv_freq)[i] /= factor;
  }
  return OkStatus();
}

}  // namespace

StatusOr<ModelConfig> ConfigFromGguf(const GgufFile& file) {
  const std::string& path = file.path();
  const GgufValue* arch_value = file.Find("general.architecture");
  if (arch_value == nullptr || arch_value->AsString() == nullptr) {
    return NotFoundError(path + ": missing string metadata key 'general.architecture'");
  }
  const std::string& arch_name = *arch_value->AsString();
  std::optional<Arch> arch = ArchFromName(arch_name);
  if (!arch) {
    return UnimplementedError(path + ": architecture '" + arch_name +
                              "' is not supported; supported: " + SupportedArchList());
  }
  ModelConfig c;
  c.arch = *arch;
  // llama.cpp's converter permutes llama q/k rows for the interleaved rotation; qwen2/qwen3 use
  // NeoX-style halves and are stored unpermuted.
  c.rope_style = c.arch == Arch::kLlama ? RopeStyle::kInterleaved : RopeStyle::kHalves;
  MetadataReader md(file, arch_name + ".");
  SG_ASSIGN_OR_RETURN(c.max_context, md.RequiredInt("context_length"));
  SG_ASSIGN_OR_RETURN(c.hidden_size, md.RequiredInt("embedding_length"));
  SG_ASSIGN_OR_RETURN(c.num_layers, md.RequiredInt("block_count"));
  SG_ASSIGN_OR_RETURN(c.intermediate_size, md.RequiredInt("feed_forward_length"));
  SG_ASSIGN_OR_RETURN(c.num_heads, md.RequiredInt("attention.head_count"));
  SG_ASSIGN_OR_RETURN(c.num_kv_heads,
                      md.OptionalInt(md.prefix() + "attention.head_count_kv", c.num_heads));
  const int64_t default_head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  SG_ASSIGN_OR_RETURN(c.head_dim,
                      md.OptionalInt(md.prefix() + "attention.key_length", default_head_dim));
  SG_ASSIGN_OR_RETURN(double theta, md.OptionalFloat(md.prefix() + "rope.freq_base", 10000.0));
  SG_ASSIGN_OR_RETURN(double eps,
                      md.OptionalFloat(md.prefix() + "attention.layer_norm_rms_epsilon", 1e-5));
  c.rope_theta = static_cast<float>(theta);
  c.rms_norm_eps = static_cast<float>(eps);

  const GgufTensorInfo* embd = file.FindTensor("token_embd.weight");
  const int64_t embd_rows = embd != nullptr && !embd->shape.empty() ? embd->shape[0] : 0;
  SG_ASSIGN_OR_RETURN(c.vocab_size, md.OptionalInt(md.prefix() + "vocab_size", embd_rows));

  SG_ASSIGN_OR_RETURN(int64_t bos, md.OptionalInt("tokenizer.ggml.bos_token_id", -1));
  SG_ASSIGN_OR_RETURN(int64_t eos, md.OptionalInt("tokenizer.ggml.eos_token_id", -1));
  c.bos_token_id = bos >= 0 && bos < c.vocab_size ? static_cast<int32_t>(bos) : -1;
  c.eos_token_id = eos >= 0 && eos < c.vocab_size ? static_cast<int32_t>(eos) : -1;

  // Sizes must be sane before head_dim/2 frequencies are allocated.
  c.rope_inv_freq.assign(
      static_cast<size_t>(c.head_dim > 0 && c.head_dim <= (1 << 20) ? c.head_dim / 2 : 0), 1.0f);
  SG_RETURN_IF_ERROR(CheckModelConfig(c, path));
  c.rope_inv_freq = DefaultRopeInvFreq(c.head_dim, c.rope_theta);

  const GgufValue* scaling = file.Find(md.prefix() + "rope.scaling.type");
  if (scaling != nullptr) {
    const std::string* type = scaling->AsString();
    if (type == nullptr) {
      return DataLossError(path + ": metadata key '" + md.prefix() +
                           "rope.scaling.type' is not a string");
    }
    if (*type == "linear") {
      SG_ASSIGN_OR_RETURN(double factor,
                          md.OptionalFloat(md.prefix() + "rope.scaling.factor", 1.0));
      if (!(factor > 0)) {
        return InvalidArgumentError(path + ": rope.scaling.factor must be positive");
      }
      for (float& f : c.rope_inv_freq) f = static_cast<float>(f / factor);
    } else if (*type != "none") {
      return UnimplementedError(path + ": rope scaling type '" + *type +
                                "' is not supported; supported: none, linear (and Llama-3.1 "
                                "rope_freqs.weight factors)");
    }
  }
  if (const GgufTensorInfo* freqs = file.FindTensor("rope_freqs.weight")) {
    SG_RETURN_IF_ERROR(ApplyRopeFreqFactors(file, *freqs, &c.rope_inv_freq));
  }
  SG_RETURN_IF_ERROR(CheckModelConfig(c, path));
  return c;
}

}  // namespace sg
