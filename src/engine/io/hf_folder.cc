// Opens a Hugging Face model folder: config.json, then model.safetensors or the shards named by
// model.safetensors.index.json. Shard names come from an untrusted file, so they must be plain
// file names (no path separators, not "." or ".."): a folder cannot make us map files elsewhere.
#include "engine/io/hf_folder.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "engine/io/safetensors.h"

namespace sg {
namespace {

constexpr char kConfigName[] = "config.json";
constexpr char kSingleName[] = "model.safetensors";
constexpr char kIndexName[] = "model.safetensors.index.json";

bool IsRegularFile(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

// Parses a whole JSON file without exceptions.
StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  SG_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> file, MappedFile::Open(path));
  const char* begin = reinterpret_cast<const char*>(file->data());
  nlohmann::json json = nlohmann::json::parse(begin, begin + file->size(), nullptr,
                                              /*allow_exceptions=*/false);
  if (json.is_discarded()) return DataLossError(path + ": invalid JSON");
  return json;
}

bool IsPlainFileName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string("/\\\0", 3)) == std::string::npos;
}

// Adds every tensor of one safetensors file; `origin` (tensor name -> shard) records where each
// came from so that the index can be checked against the shards.
Status AddShard(const std::string& path, const std::string& shard, TensorStore* store,
                std::map<std::string, std::string, std::less<>>* origin) {
  SG_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> st, SafetensorsFile::Open(path));
  for (const SafetensorsTensor& t : st->tensors()) {
    SG_RETURN_IF_ERROR(store->Add(t.name, t.view, path));
    (*origin)[t.name] = shard;
  }
  store->KeepAlive(st->file());
  return OkStatus();
}

Status OpenShards(const std::string& dir, HfFolder* folder) {
  const std::string index_path = dir + "/" + kIndexName;
  SG_ASSIGN_OR_RETURN(nlohmann::json index, ReadJsonFile(index_path));
  auto error = [&](const std::string& what) {
    return DataLossError(index_path + ": weight_map: " + what);
  };
  if (!index.is_object()) return DataLossError(index_path + ": not a JSON object");
  auto map_it = index.find("weight_map");
  if (map_it == index.end() || !map_it->is_object()) return error("missing or not an object");
  if (map_it->empty()) return error("is empty");

  // name -> shard, validated before any shard is opened.
  std::map<std::string, std::string> weight_map;
  for (auto it = map_it->begin(); it != map_it->end(); ++it) {
    if (!it.value().is_string()) return error("value of '" + it.key() + "' is not a string");
    const std::string& shard = it.value().get_ref<const std::string&>();
    if (!IsPlainFileName(shard)) {
      return error("shard '" + shard + "' of tensor '" + it.key() +
                   "' is not a plain file name inside the folder");
    }
    weight_map[it.key()] = shard;
  }
  std::map<std::string, bool> shards;  // each opened once, in name order
  for (const auto& [name, shard] : weight_map) shards[shard] = true;

  std::map<std::string, std::string, std::less<>> origin;
  for (const auto& [shard, unused] : shards) {
    const std::string path = dir + "/" + shard;
    Status s = AddShard(path, shard, &folder->tensors, &origin);
    if (!s.ok()) {
      if (s.code() == StatusCode::kNotFound) {
        return NotFoundError(index_path + ": weight_map: shard '" + shard +
                             "' is missing: " + s.message());
      }
      return s;
    }
  }
  for (const auto& [name, shard] : weight_map) {
    auto it = origin.find(name);
    if (it == origin.end()) {
      return error("tensor '" + name + "' is not in its shard '" + shard + "'");
    }
    if (it->second != shard) {
      return error("tensor '" + name + "' is listed in shard '" + shard + "' but found in '" +
                   it->second + "'");
    }
  }
  return OkStatus();
}

}  // namespace

bool IsHfFolder(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec) && IsRegularFile(path + "/" + kConfigName);
}

StatusOr<nlohmann::json> ReadHfConfig(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return NotFoundError(dir + ": not a directory");
  const std::string config_path = dir + "/" + kConfigName;
  if (!IsRegularFile(config_path)) return NotFoundError(config_path + ": missing");
  SG_ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(config_path));
  if (!config.is_object()) return DataLossError(config_path + ": not a JSON object");
  return config;
}

StatusOr<std::unique_ptr<HfFolder>> OpenHfFolder(const std::string& dir) {
  auto folder = std::make_unique<HfFolder>();
  folder->dir = dir;
  SG_ASSIGN_OR_RETURN(folder->config, ReadHfConfig(dir));

  const std::string single_path = dir + "/" + kSingleName;
  if (IsRegularFile(single_path)) {
    std::map<std::string, std::string, std::less<>> origin;
    SG_RETURN_IF_ERROR(AddShard(single_path, kSingleName, &folder->tensors, &origin));
    return folder;
  }
  if (IsRegularFile(dir + "/" + kIndexName)) {
    SG_RETURN_IF_ERROR(OpenShards(dir, folder.get()));
    return folder;
  }
  std::string message = dir + ": neither " + kSingleName + " nor " + kIndexName + " found";
  if (IsRegularFile(dir + "/pytorch_model.bin") ||
      IsRegularFile(dir + "/pytorch_model.bin.index.json")) {
    message +=
        " (only PyTorch .bin weights, which streamgen does not read: save the model with "
        "safetensors, or convert it to GGUF)";
  }
  return NotFoundError(message);
}

}  // namespace sg
