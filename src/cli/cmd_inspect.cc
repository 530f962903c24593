// `streamgen inspect PATH`: what a GGUF file or Hugging Face folder holds and how streamgen reads
// it: architecture and hyperparameters, parameter count, every tensor (type, shape) and the
// metadata keys. Exits non-zero with the error when the model cannot be loaded.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/io/gguf.h"
#include "engine/io/hf_folder.h"
#include "engine/model/model.h"

namespace sg::cli {
namespace {

struct TensorRow {
  std::string name;
  DType type;
  std::vector<int64_t> shape;
};

struct RawContents {
  std::string format;
  std::vector<TensorRow> tensors;
  std::vector<std::pair<std::string, std::string>> metadata;  // key, short display value
};

std::string Shorten(std::string s, size_t max = 100) {
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

StatusOr<RawContents> ReadRaw(const std::string& path) {
  RawContents raw;
  if (IsHfFolder(path)) {
    SG_ASSIGN_OR_RETURN(std::unique_ptr<HfFolder> folder, OpenHfFolder(path));
    raw.format = "Hugging Face folder (" + std::to_string(folder->tensors.files().size()) +
                 " safetensors file(s))";
    for (const auto& [name, view] : folder->tensors.all()) {
      raw.tensors.push_back({name, view.type, view.shape});
    }
    for (const auto& [key, value] : folder->config.items()) {
      raw.metadata.emplace_back(
          key, Shorten(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    return raw;
  }
  SG_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  raw.format = "GGUF v" + std::to_string(file->version());
  for (const GgufTensorInfo& info : file->tensors()) {
    raw.tensors.push_back({info.name, info.type, info.shape});
  }
  for (const GgufKeyValue& kv : file->metadata()) {
    raw.metadata.emplace_back(kv.key, Shorten(kv.value.ToDisplayString()));
  }
  return raw;
}

void PrintConfig(const Model& m) {
  const ModelConfig& c = m.config;
  std::printf("architecture: %s\n", ArchName(c.arch));
  std::printf("hyperparameters:\n");
  std::printf("  vocab_size         %" PRId64 "\n", c.vocab_size);
  std::printf("  hidden_size        %" PRId64 "\n", c.hidden_size);
  std::printf("  intermediate_size  %" PRId64 "\n", c.intermediate_size);
  std::printf("  layers             %" PRId64 "\n", c.num_layers);
  std::printf("  heads              %" PRId64 "\n", c.num_heads);
  std::printf("  kv_heads           %" PRId64 "\n", c.num_kv_heads);
  std::printf("  head_dim           %" PRId64 "\n", c.head_dim);
  std::printf("  context            %" PRId64 "\n", c.max_context);
  std::printf("  rms_norm_eps       %g\n", c.rms_norm_eps);
  std::printf("  rope_theta         %g\n", c.rope_theta);
  std::printf("  rope_style         %s\n",
              c.rope_style == RopeStyle::kInterleaved ? "interleaved" : "halves");
  if (!c.rope_inv_freq.empty()) {
    std::printf("  rope_inv_freq      [%g ... %g] (%zu pairs, scaling applied)\n",
                c.rope_inv_freq.front(), c.rope_inv_freq.back(), c.rope_inv_freq.size());
  }
  std::printf("  tied_embeddings    %s\n", c.tied_embeddings ? "yes" : "no");
  std::printf("  qkv_bias           %s\n", c.has_qkv_bias ? "yes" : "no");
  std::printf("  qk_norm            %s\n", c.has_qk_norm ? "yes" : "no");
  std::printf("  bos_token_id       %d\n", c.bos_token_id);
  std::printf("  eos_token_id       %d\n", c.eos_token_id);
}

int Inspect(const std::string& path) {
  StatusOr<RawContents> raw = ReadRaw(path);
  if (!raw.ok()) {
    std::fprintf(stderr, "error: %s\n", raw.status().ToString().c_str());
    return 1;
  }
  StatusOr<std::unique_ptr<Model>> model = LoadModel(path);
  std::printf("path: %s\nformat: %s\n", path.c_str(), raw->format.c_str());
  if (model.ok()) PrintConfig(**model);

  int64_t params = 0;
  uint64_t bytes = 0;
  for (const TensorRow& t : raw->tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    params += n;
    std::optional<uint64_t> row =
        RowBytes(t.type, static_cast<uint64_t>(t.shape.empty() ? 1 : t.shape.back()));
    if (row && !t.shape.empty() && t.shape.back() > 0) {
      bytes += *row * static_cast<uint64_t>(n / t.shape.back());
    }
  }
  std::printf("parameters: %" PRId64 " (%.2fM), %.1f MiB of weights\n", params, params / 1e6,
              bytes / (1024.0 * 1024.0));
  std::printf("tensors (%zu):\n", raw->tensors.size());
  for (const TensorRow& t : raw->tensors) {
    std::printf("  %-48s %-6s %s\n", t.name.c_str(), std::string(DTypeName(t.type)).c_str(),
                ShapeToString(t.shape).c_str());
  }
  std::printf("metadata (%zu keys):\n", raw->metadata.size());
  for (const auto& [key, value] : raw->metadata) {
    std::printf("  %-48s %s\n", key.c_str(), value.c_str());
  }
  if (!model.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", model.status().ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterInspect(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand(
      "inspect", "Show a model's architecture, hyperparameters, tensors and metadata");
  auto path = std::make_shared<std::string>();
  cmd->add_option("path", *path, "GGUF file or Hugging Face folder")->required();
  cmd->callback([exit_code, path] { *exit_code = Inspect(*path); });
}

}  // namespace sg::cli
