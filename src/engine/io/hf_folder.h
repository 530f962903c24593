// A Hugging Face model folder: config.json plus model.safetensors, or shards listed in
// model.safetensors.index.json. Every tensor of every shard lands in one TensorStore (views, no
// copies); the index's weight_map must agree with the shards' contents.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/status.h"
#include "engine/io/tensor_store.h"

namespace sg {

struct HfFolder {
  std::string dir;
  nlohmann::json config;  // parsed config.json (an object; checked)
  TensorStore tensors;    // keeps every shard mapped
};

// True if `path` is a directory that holds a config.json.
bool IsHfFolder(const std::string& path);

// config.json of `dir` alone, parsed (an object; checked): lets a loader refuse an unsupported
// architecture before it looks for weights.
StatusOr<nlohmann::json> ReadHfConfig(const std::string& dir);

StatusOr<std::unique_ptr<HfFolder>> OpenHfFolder(const std::string& dir);

}  // namespace sg
