// safetensors reader over a read-only mapping, and a writer (test models, tools).
// The 8-byte header length and the JSON header are untrusted: sizes, dtypes, shapes and
// data_offsets are checked (overflow, past end, overlap, shape x dtype != byte length);
// a bad file yields one DataLoss error naming the file, the tensor and what was wrong.
// Thread rules: immutable after Open; any thread may read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/mapped_file.h"
#include "engine/core/status.h"
#include "engine/core/tensor_view.h"

namespace sg {

struct SafetensorsTensor {
  std::string name;
  DType type;  // F32, F16, BF16 (other safetensors dtypes such as I64/F64/I32/I8 map too)
  std::vector<int64_t> shape;  // outermost first, as in the file
  TensorView view;
};

class SafetensorsFile {
 public:
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<SafetensorsFile>> Parse(std::shared_ptr<MappedFile> file);

  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<MappedFile>& file() const { return file_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }  // header order
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::shared_ptr<MappedFile> file_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct SafetensorsWriteTensor {
  std::string name;
  DType type;  // F32, F16 or BF16
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

Status WriteSafetensors(const std::string& path, const std::vector<SafetensorsWriteTensor>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace sg
