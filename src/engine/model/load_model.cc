// LoadModel: dispatch on the path (GGUF file or Hugging Face folder), read the config, then bind
// weights. Weights stay in the mapped files; nothing here touches tensor data except GGUF's small
// rope_freqs.weight.
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
  SG_ASSIGN_OR_RETURN(std::unique_ptr<HfFolder> folder, OpenHfFolder(path));
  auto model = std::make_unique<Model>();
  model->path = path;
  model->source = ModelSource::kHfFolder;
  SG_ASSIGN_OR_RETURN(model->config, ConfigFromHfJson(folder->config, path + "/config.json"));
  model->tensors = std::move(folder->tensors);
  SG_ASSIGN_OR_RETURN(model->weights,
                      BindWeights(model->tensors, ModelSource::kHfFolder, path, &model->config));
  return model;
}

}  // namespace

StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path) {
  if (IsHfFolder(path)) return LoadHf(path);
  return LoadGguf(path);
}

}  // namespace sg
