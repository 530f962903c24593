// GGUF test models: metadata as llama.cpp's converter writes it, then the tensors, streamed.
#include <cmath>

#include "engine/model/model_config.h"
#include "engine/model/rope_scaling.h"
#include "gguf_stream.h"
#include "model_plan.h"
#include "test_model.h"

namespace sg::testmodel {

Status WriteTestGguf(const TestModelOptions& o, const std::string& path) {
  SG_ASSIGN_OR_RETURN(TestModelShape s, ResolveShape(o));
  const std::vector<PlannedTensor> plan = PlanTensors(o, s);
  GgufStreamWriter w;
  const std::string a = o.arch + ".";
  w.AddString("general.architecture", o.arch);
  w.AddString("general.name", "streamgen-test-" + o.arch + "-" + o.size);
  w.AddUint32(a + "context_length", static_cast<uint32_t>(s.context));
  w.AddUint32(a + "embedding_length", static_cast<uint32_t>(s.hidden));
  w.AddUint32(a + "block_count", static_cast<uint32_t>(s.layers));
  w.AddUint32(a + "feed_forward_length", static_cast<uint32_t>(s.intermediate));
  w.AddUint32(a + "attention.head_count", static_cast<uint32_t>(s.heads));
  w.AddUint32(a + "attention.head_count_kv", static_cast<uint32_t>(s.kv_heads));
  w.AddUint32(a + "attention.key_length", static_cast<uint32_t>(s.head_dim));
  w.AddUint32(a + "attention.value_length", static_cast<uint32_t>(s.head_dim));
  w.AddUint32(a + "rope.dimension_count", static_cast<uint32_t>(s.head_dim));
  w.AddFloat32(a + "rope.freq_base", static_cast<float>(s.rope_theta));
  w.AddFloat32(a + "attention.layer_norm_rms_epsilon", static_cast<float>(s.rms_eps));
  w.AddUint32(a + "vocab_size", static_cast<uint32_t>(s.vocab));
  if (o.rope_scaling == "linear") {
    w.AddString(a + "rope.scaling.type", "linear");
    w.AddFloat32(a + "rope.scaling.factor", static_cast<float>(s.linear_factor));
  }
  w.AddUint32("tokenizer.ggml.bos_token_id", static_cast<uint32_t>(s.bos));
  w.AddUint32("tokenizer.ggml.eos_token_id", static_cast<uint32_t>(s.eos));

  // Llama-3.1 scaling travels as per-pair divisors (llama.cpp's converter), first in the file.
  std::vector<float> rope_factors;
  if (o.rope_scaling == "llama3") {
    Llama3RopeScaling ls{s.llama3_factor, s.llama3_low, s.llama3_high,
                         static_cast<double>(s.llama3_original_context)};
    rope_factors =
        Llama3RopeFactors(DefaultRopeInvFreq(s.head_dim, static_cast<float>(s.rope_theta)), ls);
    SG_RETURN_IF_ERROR(w.DeclareTensor("rope_freqs.weight", DType::kF32,
                                       {static_cast<int64_t>(rope_factors.size())}));
  }
  std::vector<DType> types;
  for (const PlannedTensor& t : plan) {
    SG_ASSIGN_OR_RETURN(DType type, GgufTensorType(o.type, t, s));
    types.push_back(type);
    SG_RETURN_IF_ERROR(w.DeclareTensor(t.gguf_name, type, t.shape));
  }
  SG_RETURN_IF_ERROR(w.Begin(path));
  if (!rope_factors.empty()) {
    SG_RETURN_IF_ERROR(w.WriteNextTensor(reinterpret_cast<const uint8_t*>(rope_factors.data()),
                                         rope_factors.size() * sizeof(float)));
  }
  std::vector<float> values;
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedTensor& t = plan[i];
    GenerateValues(o.seed, t, &values);
    const int64_t cols = t.shape.back();
    const int64_t rows = static_cast<int64_t>(values.size()) / cols;
    if (t.permute_heads > 0) PermuteForGguf(&values, rows, cols, t.permute_heads);
    SG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                        EncodeRows(values.data(), rows, cols, types[i]));
    SG_RETURN_IF_ERROR(w.WriteNextTensor(bytes.data(), bytes.size()));
  }
  return w.Finish();
}

}  // namespace sg::testmodel
