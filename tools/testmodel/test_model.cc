// Option resolution and per-tensor values of test models (the writers are write_gguf.cc and
// write_hf.cc).
#include "test_model.h"

#include "model_plan.h"

namespace sg::testmodel {

std::string SizesHelp() {
  return "sizes:\n"
         "  tiny : vocab 512, hidden 256, intermediate 512, 2 layers, 4 heads, 2 kv heads,\n"
         "         head_dim 64 (qwen3: 128), context 256\n"
         "  small: vocab 2048, hidden 512, intermediate 1536, 4 layers, 8 heads, 4 kv heads,\n"
         "         head_dim 64, context 1024\n"
         "  135m : SmolLM-135M shape: vocab 49152, hidden 576, intermediate 1536, 30 layers,\n"
         "         9 heads, 3 kv heads, head_dim 64, tied, context 2048 (f32 GGUF ~540 MB)\n"
         "types: f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q4_K q5_K q6_K q4_K_M\n"
         "  (--hf: f32 f16 bf16 only; 256-block types fall back to q5_0/q5_1/q8_0 where a row\n"
         "   is not a multiple of 256, like llama.cpp)\n";
}

StatusOr<TestModelShape> ResolveShape(const TestModelOptions& o) {
  TestModelShape s;
  if (o.arch != "llama" && o.arch != "qwen2" && o.arch != "qwen3") {
    return InvalidArgumentError("--arch must be llama, qwen2 or qwen3, not '" + o.arch + "'");
  }
  if (o.size == "tiny") {
    s.vocab = 512, s.hidden = 256, s.intermediate = 512, s.layers = 2, s.heads = 4, s.kv_heads = 2,
    s.context = 256;
  } else if (o.size == "small") {
    s.vocab = 2048, s.hidden = 512, s.intermediate = 1536, s.layers = 4, s.heads = 8,
    s.kv_heads = 4, s.context = 1024;
  } else if (o.size == "135m") {
    s.vocab = 49152, s.hidden = 576, s.intermediate = 1536, s.layers = 30, s.heads = 9,
    s.kv_heads = 3, s.context = 2048;
  } else {
    return InvalidArgumentError("--size must be tiny, small or 135m, not '" + o.size + "'");
  }
  s.head_dim = s.hidden / s.heads;
  // qwen3 decouples head_dim from hidden/heads; the tiny model exercises that path.
  if (o.arch == "qwen3" && o.size == "tiny") s.head_dim = 128;
  s.tied = o.tied || o.size == "135m";
  s.qkv_bias = o.arch == "qwen2";
  s.qk_norm = o.arch == "qwen3";
  s.rope_theta = o.arch == "llama" ? 10000.0 : 1000000.0;
  s.rms_eps = o.arch == "llama" ? 1e-5 : 1e-6;
  s.llama3_original_context = s.context / 4;
  if (o.rope_scaling != "none" && o.rope_scaling != "linear" && o.rope_scaling != "llama3") {
    return InvalidArgumentError("--rope-scaling must be none, llama3 or linear, not '" +
                                o.rope_scaling + "'");
  }
  if (o.rope_scaling == "llama3" && o.arch != "llama") {
    return InvalidArgumentError("--rope-scaling llama3 is for --arch llama only");
  }
  if (o.shards < 1 || o.shards > 99) return InvalidArgumentError("--shards must be 1..99");
  return s;
}

StatusOr<std::vector<float>> TestTensorValues(const TestModelOptions& options,
                                              const std::string& hf_name) {
  SG_ASSIGN_OR_RETURN(TestModelShape shape, ResolveShape(options));
  for (const PlannedTensor& t : PlanTensors(options, shape)) {
    if (t.hf_name == hf_name) {
      std::vector<float> values;
      GenerateValues(options.seed, t, &values);
      return values;
    }
  }
  return NotFoundError("test model has no tensor '" + hf_name + "'");
}

}  // namespace sg::testmodel
