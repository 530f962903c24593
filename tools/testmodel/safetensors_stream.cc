#include "safetensors_stream.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace sg::testmodel {

SafetensorsStreamWriter::~SafetensorsStreamWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

Status SafetensorsStreamWriter::DeclareTensor(const std::string& name, DType type,
                                              const std::vector<int64_t>& shape) {
  if (type != DType::kF32 && type != DType::kF16 && type != DType::kBF16) {
    return InvalidArgumentError(name + ": safetensors test files hold F32, F16 or BF16");
  }
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  const uint64_t nbytes = n * GetDTypeInfo(type).block_bytes;
  infos_.push_back(Info{name, type, shape, data_size_, data_size_ + nbytes});
  data_size_ += nbytes;
  return OkStatus();
}

Status SafetensorsStreamWriter::Begin(const std::string& path) {
  path_ = path;
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  header["__metadata__"] = {{"format", "pt"}};
  for (const Info& info : infos_) {
    const char* dtype = info.type == DType::kF32   ? "F32"
                        : info.type == DType::kF16 ? "F16"
                                                   : "BF16";
    header[info.name] = {
        {"dtype", dtype}, {"shape", info.shape}, {"data_offsets", {info.begin, info.end}}};
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' ');  // data starts 8-byte aligned, as HF writes it
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return IoError(path + ": cannot create: " + std::strerror(errno));
  const uint64_t len = text.size();
  if (std::fwrite(&len, 8, 1, file_) != 1 ||
      std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    return IoError(path + ": write failed: " + std::strerror(errno));
  }
  return OkStatus();
}

Status SafetensorsStreamWriter::WriteNextTensor(const uint8_t* data, uint64_t size) {
  if (file_ == nullptr || next_ >= infos_.size()) {
    return InternalError(path_ + ": more tensors written than declared");
  }
  const Info& info = infos_[next_++];
  if (size != info.end - info.begin) {
    return InternalError(path_ + ": tensor " + info.name + " size differs from its declaration");
  }
  if (size != 0 && std::fwrite(data, 1, size, file_) != size) {
    return IoError(path_ + ": write failed: " + std::strerror(errno));
  }
  return OkStatus();
}

Status SafetensorsStreamWriter::Finish() {
  if (file_ == nullptr) return InternalError(path_ + ": not begun");
  if (next_ != infos_.size()) return InternalError(path_ + ": not every tensor was written");
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return IoError(path_ + ": close failed: " + std::strerror(errno));
  return OkStatus();
}

}  // namespace sg::testmodel
