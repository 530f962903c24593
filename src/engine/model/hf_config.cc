#include "engine/model/hf_config.h"

#include <cmath>
#include <optional>

#include "engine/model/config_check.h"
#include "engine/model/rope_scaling.h"

namespace sg {
namespace {

using nlohmann::json;

class JsonReader {
 public:
  JsonReader(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  const json* Find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  StatusOr<int64_t> Int(const char* key, std::optional<int64_t> fallback) const {
    const json* v = Find(key);
    if (v == nullptr) {
      if (fallback) return *fallback;
      return NotFoundError(where_ + ": missing key '" + key + "'");
    }
    if (v->is_number_integer()) return v->get<int64_t>();
    // Some configs write integral floats (e.g. 8192.0).
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) {
        return static_cast<int64_t>(d);
      }
    }
    return InvalidArgumentError(where_ + ": key '" + key + "' must be an integer, got " +
                                v->dump());
  }
  StatusOr<double> Float(const char* key, double fallback) const {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_number() || !std::isfinite(v->get<double>())) {
      return InvalidArgumentError(where_ + ": key '" + key + "' must be a number, got " +
                                  v->dump());
    }
    return v->get<double>();
  }
  StatusOr<bool> Bool(const char* key, bool fallback) const {
    const json* v = Find(key);
    if (v == nullptr) return fallback;
    if (!v->is_boolean()) {
      return InvalidArgumentError(where_ + ": key '" + key + "' must be true or false, got " +
                                  v->dump());
    }
    return v->get<bool>();
  }
  // A token id: an integer, or a list of integers (the first is used); -1 when absent.
  StatusOr<int32_t> TokenId(const char* key) const {
    const json* v = Find(key);
    if (v == nullptr) return -1;
    if (v->is_array()) {
      if (v->empty()) return -1;
      v = &(*v)[0];
    }
    if (!v->is_number_integer() || v->get<int64_t>() < 0 || v->get<int64_t>() > INT32_MAX) {
      return InvalidArgumentError(where_ + ": key '" + key +
                                  "' must be a token id or a list of them, got " + v->dump());
    }
    return static_cast<int32_t>(v->get<int64_t>());
  }

 private:
  const json& obj_;
  std::string where_;
};

// Applies config.json's rope_scaling (null, "default", "linear" or "llama3") to c->rope_inv_freq.
Status ApplyRopeScaling(const json& config, const std::string& origin, ModelConfig* c) {
  auto it = config.find("rope_scaling");
  if (it == config.end() || it->is_null()) return OkStatus();
  if (!it->is_object()) {
    return InvalidArgumentError(origin + ": rope_scaling must be an object or null");
  }
  const json& rs = *it;
  std::string type;
  for (const char* key : {"rope_type", "type"}) {
    auto t = rs.find(key);
    if (t != rs.end() && t->is_string()) {
      type = t->get<std::string>();
      break;
    }
  }
  if (type.empty() || type == "default") return OkStatus();
  JsonReader r(rs, origin + ": rope_scaling");
  if (type == "linear") {
    SG_ASSIGN_OR_RETURN(double factor, r.Float("factor", 1.0));
    if (!(factor > 0)) return InvalidArgumentError(origin + ": rope_scaling.factor must be > 0");
    for (float& f : c->rope_inv_freq) f = static_cast<float>(f / factor);
    return OkStatus();
  }
  if (type == "llama3") {
    Llama3RopeScaling s;
    SG_ASSIGN_OR_RETURN(s.factor, r.Float("factor", s.factor));
    SG_ASSIGN_OR_RETURN(s.low_freq_factor, r.Float("low_freq_factor", s.low_freq_factor));
    SG_ASSIGN_OR_RETURN(s.high_freq_factor, r.Float("high_freq_factor", s.high_freq_factor));
    SG_ASSIGN_OR_RETURN(
        s.original_max_position_embeddings,
        r.Float("original_max_position_embeddings", s.original_max_position_embeddings));
    Status valid = ValidateLlama3RopeScaling(s);
    if (!valid.ok()) return InvalidArgumentError(origin + ": " + valid.message());
    c->rope_inv_freq = Llama3ScaledInvFreq(c->rope_inv_freq, s);
    return OkStatus();
  }
  return UnimplementedError(origin + ": rope_scaling type '" + type +
                            "' is not supported; supported: default, linear, llama3");
}

}  // namespace

StatusOr<ModelConfig> ConfigFromHfJson(const json& config, const std::string& origin) {
  if (!config.is_object()) return InvalidArgumentError(origin + ": not a JSON object");
  auto mt = config.find("model_type");
  if (mt == config.end() || !mt->is_string()) {
    return NotFoundError(origin + ": missing string key 'model_type'");
  }
  const std::string model_type = mt->get<std::string>();
  ModelConfig c;
  if (model_type == "llama" || model_type == "mistral") {
    c.arch = Arch::kLlama;
  } else if (model_type == "qwen2") {
    c.arch = Arch::kQwen2;
  } else if (model_type == "qwen3") {
    c.arch = Arch::kQwen3;
  } else {
    return UnimplementedError(origin + ": model_type '" + model_type +
                              "' is not supported; supported: llama, mistral, qwen2, qwen3");
  }
  // Hugging Face checkpoints rotate halves (rotate_half) for every architecture.
  c.rope_style = RopeStyle::kHalves;
  JsonReader r(config, origin);
  SG_ASSIGN_OR_RETURN(c.vocab_size, r.Int("vocab_size", std::nullopt));
  SG_ASSIGN_OR_RETURN(c.hidden_size, r.Int("hidden_size", std::nullopt));
  SG_ASSIGN_OR_RETURN(c.intermediate_size, r.Int("intermediate_size", std::nullopt));
  SG_ASSIGN_OR_RETURN(c.num_layers, r.Int("num_hidden_layers", std::nullopt));
  SG_ASSIGN_OR_RETURN(c.num_heads, r.Int("num_attention_heads", std::nullopt));
  SG_ASSIGN_OR_RETURN(c.num_kv_heads, r.Int("num_key_value_heads", c.num_heads));
  const int64_t default_head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  SG_ASSIGN_OR_RETURN(c.head_dim, r.Int("head_dim", default_head_dim));
  // Defaults are transformers' config class defaults.
  const int64_t default_context = c.arch == Arch::kLlama ? 2048 : 32768;
  SG_ASSIGN_OR_RETURN(c.max_context, r.Int("max_position_embeddings", default_context));
  SG_ASSIGN_OR_RETURN(double eps, r.Float("rms_norm_eps", 1e-6));
  SG_ASSIGN_OR_RETURN(double theta, r.Float("rope_theta", 10000.0));
  c.rms_norm_eps = static_cast<float>(eps);
  c.rope_theta = static_cast<float>(theta);
  SG_ASSIGN_OR_RETURN(c.tied_embeddings, r.Bool("tie_word_embeddings", false));
  SG_ASSIGN_OR_RETURN(c.bos_token_id, r.TokenId("bos_token_id"));
  SG_ASSIGN_OR_RETURN(c.eos_token_id, r.TokenId("eos_token_id"));
  if (c.bos_token_id >= c.vocab_size) c.bos_token_id = -1;
  if (c.eos_token_id >= c.vocab_size) c.eos_token_id = -1;

  // Sizes must be sane before head_dim/2 frequencies are computed.
  c.rope_inv_freq.assign(
      static_cast<size_t>(c.head_dim > 0 && c.head_dim <= (1 << 20) ? c.head_dim / 2 : 0), 1.0f);
  SG_RETURN_IF_ERROR(CheckModelConfig(c, origin));
  c.rope_inv_freq = DefaultRopeInvFreq(c.head_dim, c.rope_theta);
  SG_RETURN_IF_ERROR(ApplyRopeScaling(config, origin, &c));
  SG_RETURN_IF_ERROR(CheckModelConfig(c, origin));
  return c;
}

}  // namespace sg
