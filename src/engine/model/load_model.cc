// LoadModel: dispatch on the path (GGUF file or Hugging Face folder), read the config, then bind
// weights. Weights stay in the mapped files; nothing here touches tensor data except GGUF's small
// rope_freqs.weight.
#include <filesystem>
#include <system_error>
#include <utility>

#include "engine/io/gguf.h"
#include "engine/io/hf_folder.h"
#include "engine/model/bind_weights.h"
#include "engine/model/gguf_config.h"
#include "engine/model/hf_config.h"
#include "engine/model/model.h"

namespace sg {
namespace {

StatusOr<std::unique_ptr<Model>> LoadGguf(const std::string& path) {
  SG_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> file, GgufFile::Open(path));
  auto model = std::make_unique<Model>();
  model->path = path;
  model->source = ModelSource::kGguf;
  SG_ASSIGN_OR_RETURN(model->config, ConfigFromGguf(*file));
  for (const GgufTensorInfo& info : file->tensors()) {
    SG_RETURN_IF_ERROR(model->tensors.Add(info.name, file->View(info), path));
  }
  model->tensors.KeepAlive(file->file());
  SG_ASSIGN_OR_RETURN(model->weights,
                      BindWeights(model->tensors, ModelSource::kGguf, path, &model->config));
  return model;
}

StatusOr<std::unique_ptr<Model>> LoadHf(const std::string& path) {
  auto model = std::make_unique<Model>();
  model->path = path;
  model->source = ModelSource::kHfFolder;
  // The config first: an unsupported architecture is the better error than missing weights.
  SG_ASSIGN_OR_RETURN(nlohmann::json config, ReadHfConfig(path));
  SG_ASSIGN_OR_RETURN(model->config, ConfigFromHfJson(config, path + "/config.json"));
  SG_ASSIGN_OR_RETURN(std::unique_ptr<HfFolder> folder, OpenHfFolder(path));
  model->tensors = std::move(folder->tensors);
  SG_ASSIGN_OR_RETURN(model->weights,
                      BindWeights(model->tensors, ModelSource::kHfFolder, path, &model->config));
  return model;
}

}  // namespace

const char kWhatLoads[] =
    "streamgen loads a GGUF file (such as model-q8_0.gguf) or a Hugging Face model folder "
    "(config.json, model.safetensors or its shards, tokenizer.json)";

StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (path.empty() || !std::filesystem::exists(st)) {
    return NotFoundError("model path '" + path + "' does not exist; " + kWhatLoads);
  }
  if (std::filesystem::is_directory(st)) {
    if (!IsHfFolder(path)) {
      return NotFoundError(path + ": a directory without config.json is not a Hugging Face model " +
                           "folder; " + kWhatLoads);
    }
    return LoadHf(path);
  }
  if (!HasGgufMagic(path)) {
    // Not GGUF at all (a .bin checkpoint, one file of a Hugging Face folder): say what loads, or
    // which folder to pass for a file inside a model folder.
    const std::string message = path + ": not a GGUF file (expected \"GGUF\")";
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    const std::string folder = parent.empty() ? "." : parent.string();
    if (IsHfFolder(folder)) {
      return DataLossError(message + "; " + folder +
                           " is a Hugging Face model folder: pass the folder");
    }
    return DataLossError(message + "; " + kWhatLoads);
  }
  return LoadGguf(path);
}

}  // namespace sg
