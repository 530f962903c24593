// Writes small valid GGUF and safetensors files as fuzz seeds:
//   fuzz_seed_writer <gguf_corpus_dir> <safetensors_corpus_dir>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/io/gguf.h"
#include "engine/io/safetensors.h"

namespace {

std::vector<uint8_t> Bytes(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 13 + 7);
  return v;
}

sg::GgufValue Value(sg::GgufType type, decltype(sg::GgufValue::value) v) {
  sg::GgufValue out;
  out.type = type;
  out.value = std::move(v);
  return out;
}

bool Check(const sg::Status& s) {
  if (!s.ok()) std::fprintf(stderr, "fuzz_seed_writer: %s\n", s.ToString().c_str());
  return s.ok();
}

bool WriteGgufSeeds(const std::string& dir) {
  sg::GgufWriter all_types;
  all_types.AddString("general.architecture", "llama");
  all_types.AddUint32("llama.block_count", 2);
  all_types.AddInt32("i32", -3);
  all_types.AddUint64("u64", 1ull << 40);
  all_types.AddFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  all_types.AddBool("b", true);
  all_types.AddValue("u8", Value(sg::GgufType::kUint8, uint64_t{7}));
  all_types.AddValue("i8", Value(sg::GgufType::kInt8, int64_t{-7}));
  all_types.AddValue("u16", Value(sg::GgufType::kUint16, uint64_t{700}));
  all_types.AddValue("i16", Value(sg::GgufType::kInt16, int64_t{-700}));
  all_types.AddValue("i64", Value(sg::GgufType::kInt64, int64_t{-70000000000}));
  all_types.AddValue("f64", Value(sg::GgufType::kFloat64, 0.25));
  all_types.AddStringArray("tokenizer.ggml.tokens", {"<s>", "</s>", "a"});
  all_types.AddFloat32Array("tokenizer.ggml.scores", {0.f, -1.f, 2.f});
  all_types.AddInt32Array("tokenizer.ggml.token_type", {3, 3, 1});
  sg::GgufArray inner;
  inner.elem_type = sg::GgufType::kString;
  inner.items = {Value(sg::GgufType::kString, std::string("x"))};
  sg::GgufArray outer;
  outer.elem_type = sg::GgufType::kArray;
  outer.items = {Value(sg::GgufType::kArray, inner), Value(sg::GgufType::kArray, inner)};
  all_types.AddValue("nested", Value(sg::GgufType::kArray, outer));
  if (!Check(all_types.AddTensor("token_embd.weight", sg::DType::kF32, {3, 4}, Bytes(48))) ||
      !Check(all_types.AddTensor("blk.0.attn_q.weight", sg::DType::kQ4_0, {2, 32}, Bytes(36))) ||
      !Check(
          all_types.AddTensor("blk.0.ffn_down.weight", sg::DType::kQ4_K, {1, 256}, Bytes(144))) ||
      !Check(all_types.Write(dir + "/all_types.gguf"))) {
    return false;
  }

  sg::GgufWriter aligned;
  aligned.SetAlignment(64);
  aligned.AddString("general.name", "tiny");
  if (!Check(aligned.AddTensor("a", sg::DType::kF16, {2, 2}, Bytes(8))) ||
      !Check(aligned.AddTensor("b", sg::DType::kBF16, {1, 1, 1, 2}, Bytes(4))) ||
      !Check(aligned.Write(dir + "/aligned.gguf"))) {
    return false;
  }
  sg::GgufWriter empty;
  return Check(empty.Write(dir + "/empty.gguf"));
}

bool WriteSafetensorsSeeds(const std::string& dir) {
  return Check(sg::WriteSafetensors(
             dir + "/model.safetensors",
             {{"model.embed_tokens.weight", sg::DType::kBF16, {3, 2}, Bytes(12)},
              {"lm_head.weight", sg::DType::kF32, {2, 2}, Bytes(16)},
              {"scalar", sg::DType::kF16, {}, Bytes(2)},
              {"empty", sg::DType::kI64, {0}, {}}},
             {{"format", "pt"}})) &&
         Check(sg::WriteSafetensors(dir + "/small.safetensors",
                                    {{"w", sg::DType::kF32, {1}, Bytes(4)}}));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <gguf_corpus_dir> <safetensors_corpus_dir>\n", argv[0]);
    return 2;
  }
  return WriteGgufSeeds(argv[1]) && WriteSafetensorsSeeds(argv[2]) ? 0 : 1;
}
