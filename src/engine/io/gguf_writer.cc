// GGUF v3 writer: header, metadata, tensor infos (ne innermost first), padding to the alignment,
// then each tensor's bytes padded to the alignment. Mirrors what the reader accepts, so every
// file it writes parses back (round-trip tests rely on this).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <utility>

#include "engine/io/byte_reader.h"
#include "engine/io/gguf.h"

namespace sg {
namespace {

constexpr uint32_t kVersion = 3;
constexpr int kMaxArrayDepth = 8;  // the reader refuses deeper nesting
constexpr size_t kMaxDims = 4;

class ByteSink {
 public:
  template <typename T>
  void Put(T v) {
    const size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &v, sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint64_t>(s.size());
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void PutBytes(const std::vector<uint8_t>& b) { bytes_.insert(bytes_.end(), b.begin(), b.end()); }
  void PadTo(uint64_t alignment) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
  }
  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

Status Mismatch(const std::string& key, GgufType type) {
  return InvalidArgumentError(std::string("gguf writer: key '") + key +
                              "': value does not hold a " + GgufTypeName(type));
}

Status PutValue(const std::string& key, const GgufValue& v, GgufType type, int depth,
                ByteSink* out) {
  const uint64_t* u = std::get_if<uint64_t>(&v.value);
  const int64_t* i = std::get_if<int64_t>(&v.value);
  // Integers are stored widened; either signedness is accepted and narrowed to `type`.
  const bool is_int = u != nullptr || i != nullptr;
  const uint64_t bits = u != nullptr ? *u : (i != nullptr ? static_cast<uint64_t>(*i) : 0);
  switch (type) {
    case GgufType::kUint8:
    case GgufType::kInt8:
      if (!is_int) return Mismatch(key, type);
      out->Put<uint8_t>(static_cast<uint8_t>(bits));
      return OkStatus();
    case GgufType::kUint16:
    case GgufType::kInt16:
      if (!is_int) return Mismatch(key, type);
      out->Put<uint16_t>(static_cast<uint16_t>(bits));
      return OkStatus();
    case GgufType::kUint32:
    case GgufType::kInt32:
      if (!is_int) return Mismatch(key, type);
      out->Put<uint32_t>(static_cast<uint32_t>(bits));
      return OkStatus();
    case GgufType::kUint64:
    case GgufType::kInt64:
      if (!is_int) return Mismatch(key, type);
      out->Put<uint64_t>(bits);
      return OkStatus();
    case GgufType::kFloat32:
    case GgufType::kFloat64: {
      std::optional<double> d = v.AsFloat();
      if (!d) return Mismatch(key, type);
      if (type == GgufType::kFloat32) {
        out->Put<float>(static_cast<float>(*d));
      } else {
        out->Put<double>(*d);
      }
      return OkStatus();
    }
    case GgufType::kBool: {
      std::optional<bool> b = v.AsBool();
      if (!b) return Mismatch(key, type);
      out->Put<uint8_t>(*b ? 1 : 0);
      return OkStatus();
    }
    case GgufType::kString: {
      const std::string* s = v.AsString();
      if (s == nullptr) return Mismatch(key, type);
      out->PutString(*s);
      return OkStatus();
    }
    case GgufType::kArray: {
      const GgufArray* arr = v.AsArray();
      if (arr == nullptr) return Mismatch(key, type);
      if (depth >= kMaxArrayDepth) {
        return InvalidArgumentError("gguf writer: key '" + key + "': arrays nested too deep");
      }
      out->Put<uint32_t>(static_cast<uint32_t>(arr->elem_type));
      out->Put<uint64_t>(arr->items.size());
      for (const GgufValue& item : arr->items) {
        if (item.type != arr->elem_type) {
          return InvalidArgumentError("gguf writer: key '" + key + "': array of " +
                                      GgufTypeName(arr->elem_type) + " holds a " +
                                      GgufTypeName(item.type));
        }
        SG_RETURN_IF_ERROR(PutValue(key, item, arr->elem_type, depth + 1, out));
      }
      return OkStatus();
    }
  }
  return InvalidArgumentError("gguf writer: key '" + key + "': unknown type");
}

GgufValue Scalar(GgufType type, decltype(GgufValue::value) v) {
  GgufValue out;
  out.type = type;
  out.value = std::move(v);
  return out;
}

template <typename T, typename Wide>
GgufValue ArrayOf(GgufType elem_type, const std::vector<T>& items) {
  GgufArray arr;
  arr.elem_type = elem_type;
  arr.items.reserve(items.size());
  for (const T& item : items) arr.items.push_back(Scalar(elem_type, static_cast<Wide>(item)));
  return Scalar(GgufType::kArray, std::move(arr));
}

}  // namespace

void GgufWriter::SetAlignment(uint32_t alignment) { alignment_ = alignment; }

void GgufWriter::AddUint32(std::string key, uint32_t v) {
  metadata_.push_back({std::move(key), Scalar(GgufType::kUint32, uint64_t{v})});
}
void GgufWriter::AddInt32(std::string key, int32_t v) {
  metadata_.push_back({std::move(key), Scalar(GgufType::kInt32, int64_t{v})});
}
void GgufWriter::AddUint64(std::string key, uint64_t v) {
  metadata_.push_back({std::move(key), Scalar(GgufType::kUint64, v)});
}
void GgufWriter::AddFloat32(std::string key, float v) {
  metadata_.push_back({std::move(key), Scalar(GgufType::kFloat32, double{v})});
}
void GgufWriter::AddBool(std::string key, bool v) {
  metadata_.push_back({std::move(key), Scalar(GgufType::kBool, v)});
}
void GgufWriter::AddString(std::string key, std::string v) {
  metadata_.push_back({std::move(key), Scalar(GgufType::kString, std::move(v))});
}
void GgufWriter::AddStringArray(std::string key, std::vector<std::string> v) {
  metadata_.push_back({std::move(key), ArrayOf<std::string, std::string>(GgufType::kString, v)});
}
void GgufWriter::AddInt32Array(std::string key, std::vector<int32_t> v) {
  metadata_.push_back({std::move(key), ArrayOf<int32_t, int64_t>(GgufType::kInt32, v)});
}
void GgufWriter::AddFloat32Array(std::string key, std::vector<float> v) {
  metadata_.push_back({std::move(key), ArrayOf<float, double>(GgufType::kFloat32, v)});
}
void GgufWriter::AddValue(std::string key, GgufValue v) {
  metadata_.push_back({std::move(key), std::move(v)});
}

Status GgufWriter::AddTensor(std::string name, DType type, std::vector<int64_t> shape,
                             std::vector<uint8_t> bytes) {
  const std::string what = "gguf writer: tensor '" + name + "': ";
  for (const PendingTensor& t : tensors_) {
    if (t.name == name) return InvalidArgumentError(what + "duplicate name");
  }
  if (shape.size() > kMaxDims) return InvalidArgumentError(what + "more than 4 dimensions");
  uint64_t rows = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] <= 0) return InvalidArgumentError(what + "dimensions must be positive");
    if (d + 1 < shape.size() && !CheckedMul(rows, static_cast<uint64_t>(shape[d]), &rows)) {
      return InvalidArgumentError(what + "size overflows");
    }
  }
  const uint64_t cols = shape.empty() ? 1 : static_cast<uint64_t>(shape.back());
  std::optional<uint64_t> row_bytes = RowBytes(type, cols);
  uint64_t nbytes = 0;
  if (!row_bytes || !CheckedMul(*row_bytes, rows, &nbytes)) {
    return InvalidArgumentError(what + "row length " + std::to_string(cols) +
                                " is not a multiple of the block size");
  }
  if (nbytes != bytes.size()) {
    return InvalidArgumentError(what + "expected " + std::to_string(nbytes) + " bytes, got " +
                                std::to_string(bytes.size()));
  }
  tensors_.push_back({std::move(name), type, std::move(shape), std::move(bytes)});
  return OkStatus();
}

StatusOr<std::vector<uint8_t>> GgufWriter::Serialize() const {
  if (!IsPowerOfTwo(alignment_)) {
    return InvalidArgumentError("gguf writer: alignment " + std::to_string(alignment_) +
                                " is not a nonzero power of two");
  }
  std::vector<const GgufKeyValue*> kvs;
  std::set<std::string> keys;
  for (const GgufKeyValue& kv : metadata_) {
    if (!keys.insert(kv.key).second) {
      return InvalidArgumentError("gguf writer: duplicate key '" + kv.key + "'");
    }
    kvs.push_back(&kv);
  }
  GgufKeyValue alignment_kv{"general.alignment", Scalar(GgufType::kUint32, uint64_t{alignment_})};
  if (keys.count(alignment_kv.key) == 0 && alignment_ != 32) kvs.push_back(&alignment_kv);

  ByteSink out;
  out.Put<uint32_t>(0x46554747);  // "GGUF"
  out.Put<uint32_t>(kVersion);
  out.Put<uint64_t>(tensors_.size());
  out.Put<uint64_t>(kvs.size());
  for (const GgufKeyValue* kv : kvs) {
    out.PutString(kv->key);
    out.Put<uint32_t>(static_cast<uint32_t>(kv->value.type));
    SG_RETURN_IF_ERROR(PutValue(kv->key, kv->value, kv->value.type, 0, &out));
  }
  uint64_t offset = 0;  // relative to the data section
  for (const PendingTensor& t : tensors_) {
    out.PutString(t.name);
    out.Put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) out.Put<int64_t>(*it);
    out.Put<uint32_t>(static_cast<uint32_t>(t.type));
    out.Put<uint64_t>(offset);
    AlignUp(offset + t.bytes.size(), alignment_, &offset);
  }
  out.PadTo(alignment_);
  for (const PendingTensor& t : tensors_) {
    out.PutBytes(t.bytes);
    out.PadTo(alignment_);
  }
  return out.Take();
}

std::vector<uint8_t> GgufWriter::ToBytes() const {
  StatusOr<std::vector<uint8_t>> bytes = Serialize();
  if (!bytes.ok()) return {};
  return std::move(bytes).value();
}

Status GgufWriter::Write(const std::string& path) const {
  SG_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, Serialize());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return IoError(path + ": cannot create: " + std::strerror(errno));
  const size_t written = std::fwrite(bytes.data(), 1, bytes.size(), f);
  const bool closed = std::fclose(f) == 0;
  if (written != bytes.size() || !closed) return IoError(path + ": write failed");
  return OkStatus();
}

}  // namespace sg
