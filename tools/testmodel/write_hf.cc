// Hugging Face test folders: config.json as transformers writes it for each model_type, and
// the weights in one or more safetensors files, streamed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model_plan.h"
#include "safetensors_stream.h"
#include "test_model.h"

namespace sg::testmodel {
namespace {

nlohmann::ordered_json MakeConfig(const TestModelOptions& o, const TestModelShape& s, DType type) {
  nlohmann::ordered_json c;
  const char* arch_class = o.arch == "llama"   ? "LlamaForCausalLM"
                           : o.arch == "qwen2" ? "Qwen2ForCausalLM"
                                               : "Qwen3ForCausalLM";
  c["architectures"] = {arch_class};
  c["model_type"] = o.arch;
  c["vocab_size"] = s.vocab;
  c["hidden_size"] = s.hidden;
  c["intermediate_size"] = s.intermediate;
  c["num_hidden_layers"] = s.layers;
  c["num_attention_heads"] = s.heads;
  c["num_key_value_heads"] = s.kv_heads;
  c["head_dim"] = s.head_dim;
  c["hidden_act"] = "silu";
  c["max_position_embeddings"] = s.context;
  c["rms_norm_eps"] = s.rms_eps;
  c["rope_theta"] = s.rope_theta;
  c["tie_word_embeddings"] = s.tied;
  if (o.arch != "qwen2") c["attention_bias"] = false;  // qwen2 always has q/k/v biases
  if (o.arch == "llama") c["mlp_bias"] = false;
  if (o.arch != "llama") c["use_sliding_window"] = false;
  c["bos_token_id"] = s.bos;
  c["eos_token_id"] = s.eos;
  c["torch_dtype"] = type == DType::kF32 ? "float32" : type == DType::kF16 ? "float16" : "bfloat16";
  if (o.rope_scaling == "linear") {
    c["rope_scaling"] = {{"type", "linear"}, {"factor", s.linear_factor}};
  } else if (o.rope_scaling == "llama3") {
    c["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", s.llama3_factor},
                         {"low_freq_factor", s.llama3_low},
                         {"high_freq_factor", s.llama3_high},
                         {"original_max_position_embeddings", s.llama3_original_context}};
  } else {
    c["rope_scaling"] = nullptr;
  }
  return c;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) return IoError(path + ": write failed");
  return OkStatus();
}

std::string ShardName(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05d-of-%05d.safetensors", i, n);
  return buf;
}

// Norms and biases stay F32 whatever the matrices are stored in.
DType TypeOf(const PlannedTensor& t, DType matrix_type) {
  return t.kind == TensorKind::kNorm || t.kind == TensorKind::kBias ? DType::kF32 : matrix_type;
}

}  // namespace

Status WriteTestHf(const TestModelOptions& o, const std::string& dir) {
  SG_ASSIGN_OR_RETURN(TestModelShape s, ResolveShape(o));
  SG_ASSIGN_OR_RETURN(DType type, HfFloatType(o.type));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError(dir + ": cannot create directory: " + ec.message());
  SG_RETURN_IF_ERROR(WriteText(dir + "/config.json", MakeConfig(o, s, type).dump(2) + "\n"));

  const std::vector<PlannedTensor> plan = PlanTensors(o, s);
  const size_t n = plan.size();
  const int shards = o.shards;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  uint64_t total = 0;
  std::vector<float> values;
  for (int shard = 0; shard < shards; ++shard) {
    // Contiguous runs of tensors per shard, in plan order.
    const size_t begin = n * static_cast<size_t>(shard) / static_cast<size_t>(shards);
    const size_t end = n * static_cast<size_t>(shard + 1) / static_cast<size_t>(shards);
    const std::string file = shards == 1 ? "model.safetensors" : ShardName(shard + 1, shards);
    SafetensorsStreamWriter w;
    for (size_t i = begin; i < end; ++i) {
      SG_RETURN_IF_ERROR(w.DeclareTensor(plan[i].hf_name, TypeOf(plan[i], type), plan[i].shape));
      weight_map[plan[i].hf_name] = file;
    }
    total += w.data_size();
    SG_RETURN_IF_ERROR(w.Begin(dir + "/" + file));
    for (size_t i = begin; i < end; ++i) {
      GenerateValues(o.seed, plan[i], &values);
      const int64_t cols = plan[i].shape.back();
      const int64_t rows = static_cast<int64_t>(values.size()) / cols;
      SG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                          EncodeRows(values.data(), rows, cols, TypeOf(plan[i], type)));
      SG_RETURN_IF_ERROR(w.WriteNextTensor(bytes.data(), bytes.size()));
    }
    SG_RETURN_IF_ERROR(w.Finish());
  }
  if (shards > 1) {
    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", total}};
    index["weight_map"] = weight_map;
    SG_RETURN_IF_ERROR(WriteText(dir + "/model.safetensors.index.json", index.dump(2) + "\n"));
  }
  return OkStatus();
}

}  // namespace sg::testmodel
