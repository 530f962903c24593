// GGUF reader (versions 2 and 3) over a read-only mapping. The file is untrusted: every count,
// length, offset, dimension and type is checked before use; a bad file yields one DataLoss error
// naming the file, the field and what was wrong. Nothing is copied out of tensor data.
// Thread rules: immutable after Open; any thread may read.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/mapped_file.h"
#include "engine/core/status.h"
#include "engine/core/tensor_view.h"

namespace sg {

// GGUF metadata value types, numbered as in the file format.
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

const char* GgufTypeName(GgufType type);  // "uint32", "string", "array", ...

struct GgufValue;
// An array: all elements share elem_type (itself possibly kArray: nested arrays).
struct GgufArray {
  GgufType elem_type = GgufType::kUint8;
  std::vector<GgufValue> items;
};

struct GgufValue {
  GgufType type = GgufType::kUint8;
  // Integers of every width are widened: unsigned -> uint64_t, signed -> int64_t.
  // Floats -> double. Strings are copied (metadata is small next to weights).
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> value;

  // Typed access with conversion between integer widths when the value fits; nullopt otherwise.
  std::optional<int64_t> AsInt() const;
  std::optional<double> AsFloat() const;  // any integer or float
  std::optional<bool> AsBool() const;
  const std::string* AsString() const;
  const GgufArray* AsArray() const;
  // Short human-readable rendering for `streamgen inspect` (arrays summarized past a few items).
  std::string ToDisplayString() const;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  DType type;
  std::vector<int64_t> shape;  // outermost first (reversed from the file's ne[] order)
  uint64_t offset = 0;         // relative to data_offset, as stored in the file
  uint64_t nbytes = 0;
};

// True if the file at `path` starts with GGUF's magic bytes "GGUF" (false if it cannot be read):
// lets a loader tell "not a GGUF file at all" from a damaged one before parsing.
bool HasGgufMagic(const std::string& path);

class GgufFile {
 public:
  static StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses an existing mapping (tests, fuzzers). The mapping's path() names the file in errors.
  static StatusOr<std::unique_ptr<GgufFile>> Parse(std::shared_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of tensor data
  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<MappedFile>& file() const { return file_; }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }  // file order
  const GgufValue* Find(std::string_view key) const;
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }  // file order
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // View over a tensor's bytes (already bounds-checked by Parse).
  TensorView View(const GgufTensorInfo& info) const;

 private:
  GgufFile() = default;
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

// Writes GGUF v3 files (test models, tools). Values are written with exactly the type given.
class GgufWriter {
 public:
  void SetAlignment(uint32_t alignment);  // general.alignment is written when != 32
  void AddUint32(std::string key, uint32_t v);
  void AddInt32(std::string key, int32_t v);
  void AddUint64(std::string key, uint64_t v);
  void AddFloat32(std::string key, float v);
  void AddBool(std::string key, bool v);
  void AddString(std::string key, std::string v);
  void AddStringArray(std::string key, std::vector<std::string> v);
  void AddInt32Array(std::string key, std::vector<int32_t> v);
  void AddFloat32Array(std::string key, std::vector<float> v);
  void AddValue(std::string key, GgufValue v);  // any type, nested arrays included
  // shape outermost first; bytes must be exactly the type's row bytes x rows.
  Status AddTensor(std::string name, DType type, std::vector<int64_t> shape,
                   std::vector<uint8_t> bytes);
  Status Write(const std::string& path) const;
  std::vector<uint8_t> ToBytes() const;  // the whole file in memory (tests)

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  // The whole file, or InvalidArgument for a value whose variant does not match its type, a
  // duplicate name, or a bad alignment. ToBytes() returns an empty vector on such an error.
  StatusOr<std::vector<uint8_t>> Serialize() const;

  uint32_t alignment_ = 32;
  std::vector<GgufKeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace sg
