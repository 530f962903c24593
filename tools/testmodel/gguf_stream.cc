#include "gguf_stream.h"

#include <cerrno>
#include <cstring>

namespace sg::testmodel {
namespace {

// GGUF metadata value types (gguf.md): uint32 4, int32 5, float32 6, bool 7, string 8.
constexpr uint32_t kTypeUint32 = 4, kTypeInt32 = 5, kTypeFloat32 = 6, kTypeBool = 7,
                   kTypeString = 8;

template <typename T>
void Append(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));  // little-endian hosts only
}

void AppendString(std::string* out, const std::string& s) {
  Append<uint64_t>(out, s.size());
  out->append(s);
}

uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

}  // namespace

GgufStreamWriter::~GgufStreamWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void GgufStreamWriter::Key(const std::string& key, uint32_t type) {
  AppendString(&kv_bytes_, key);
  Append<uint32_t>(&kv_bytes_, type);
  ++kv_count_;
}

void GgufStreamWriter::AddUint32(const std::string& key, uint32_t v) {
  Key(key, kTypeUint32);
  Append(&kv_bytes_, v);
}
void GgufStreamWriter::AddInt32(const std::string& key, int32_t v) {
  Key(key, kTypeInt32);
  Append(&kv_bytes_, v);
}
void GgufStreamWriter::AddFloat32(const std::string& key, float v) {
  Key(key, kTypeFloat32);
  Append(&kv_bytes_, v);
}
void GgufStreamWriter::AddBool(const std::string& key, bool v) {
  Key(key, kTypeBool);
  Append<uint8_t>(&kv_bytes_, v ? 1 : 0);
}
void GgufStreamWriter::AddString(const std::string& key, const std::string& v) {
  Key(key, kTypeString);
  AppendString(&kv_bytes_, v);
}

Status GgufStreamWriter::DeclareTensor(const std::string& name, DType type,
                                       const std::vector<int64_t>& shape) {
  if (shape.empty()) return InvalidArgumentError(name + ": a tensor needs a shape");
  uint64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= static_cast<uint64_t>(shape[i]);
  const std::optional<uint64_t> row = RowBytes(type, static_cast<uint64_t>(shape.back()));
  if (!row) return InvalidArgumentError(name + ": rows do not fit the type's blocks");
  Info info{name, type, shape, data_size_, *row * rows};
  data_size_ = AlignUp(data_size_ + info.nbytes, kAlignment);
  infos_.push_back(std::move(info));
  return OkStatus();
}

Status GgufStreamWriter::Put(const void* data, size_t size) {
  if (size != 0 && std::fwrite(data, 1, size, file_) != size) {
    return IoError(path_ + ": write failed: " + std::strerror(errno));
  }
  return OkStatus();
}

Status GgufStreamWriter::Begin(const std::string& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) return IoError(path + ": cannot create: " + std::strerror(errno));
  std::string head;
  head.append("GGUF", 4);
  Append<uint32_t>(&head, 3);  // version
  Append<uint64_t>(&head, infos_.size());
  Append<uint64_t>(&head, kv_count_);
  head += kv_bytes_;
  for (const Info& info : infos_) {
    AppendString(&head, info.name);
    Append<uint32_t>(&head, static_cast<uint32_t>(info.shape.size()));
    for (auto it = info.shape.rbegin(); it != info.shape.rend(); ++it) {
      Append<uint64_t>(&head, static_cast<uint64_t>(*it));
    }
    Append<uint32_t>(&head, static_cast<uint32_t>(info.type));
    Append<uint64_t>(&head, info.offset);
  }
  head.resize(AlignUp(head.size(), kAlignment), '\0');
  return Put(head.data(), head.size());
}

Status GgufStreamWriter::WriteNextTensor(const uint8_t* data, uint64_t size) {
  if (file_ == nullptr || next_ >= infos_.size()) {
    return InternalError(path_ + ": more tensors written than declared");
  }
  const Info& info = infos_[next_++];
  if (size != info.nbytes) {
    return InternalError(path_ + ": tensor " + info.name + " has " + std::to_string(size) +
                         " bytes, declared " + std::to_string(info.nbytes));
  }
  SG_RETURN_IF_ERROR(Put(data, size));
  static const char kZeros[kAlignment] = {};
  return Put(kZeros, AlignUp(size, kAlignment) - size);
}

Status GgufStreamWriter::Finish() {
  if (next_ != infos_.size()) return InternalError(path_ + ": not every tensor was written");
  if (file_ == nullptr) return InternalError(path_ + ": not begun");
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return IoError(path_ + ": close failed: " + std::strerror(errno));
  return OkStatus();
}

}  // namespace sg::testmodel
