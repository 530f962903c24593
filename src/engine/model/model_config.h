// Architecture hyperparameters of a decoder-only model, independent of the file it came from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sg {

enum class Arch { kLlama, kQwen2, kQwen3 };

const char* ArchName(Arch arch);  // "llama", "qwen2", "qwen3"

// How RoPE pairs the dimensions of a head.
//  kInterleaved: pairs (2i, 2i+1) — llama.cpp's LLAMA rope ("normal"); GGUF files converted from
//                Hugging Face llama checkpoints have q/k rows permuted for it.
//  kHalves:      pairs (i, i + d/2) — Hugging Face's rotate_half ("neox"); safetensors llama,
//                and qwen2/qwen3 in both formats.
enum class RopeStyle { kInterleaved, kHalves };

struct ModelConfig {
  Arch arch = Arch::kLlama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;        // d_model
  int64_t intermediate_size = 0;  // FFN width
  int64_t num_layers = 0;
  int64_t num_heads = 0;     // query heads
  int64_t num_kv_heads = 0;  // GQA: num_heads % num_kv_heads == 0
  int64_t head_dim = 0;      // usually hidden/num_heads; qwen3 may differ
  int64_t max_context = 0;   // trained context length (tokens)
  float rms_norm_eps = 1e-5f;
  float rope_theta = 10000.0f;
  RopeStyle rope_style = RopeStyle::kHalves;
  // Inverse frequency per rotated pair, head_dim/2 entries, rope scaling already applied
  // (Llama-3 scaling, linear scaling, or GGUF rope_freqs factors): angle = pos * rope_inv_freq[i].
  std::vector<float> rope_inv_freq;
  bool tied_embeddings = false;  // output projection reuses token_embedding
  bool has_qkv_bias = false;     // qwen2
  bool has_qk_norm = false;      // qwen3
  int32_t bos_token_id = -1;     // -1: none known
  int32_t eos_token_id = -1;
};

// Llama-style inverse frequencies theta^(-2i/d) for i in [0, head_dim/2).
std::vector<float> DefaultRopeInvFreq(int64_t head_dim, float theta);

}  // namespace sg
