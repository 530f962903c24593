// A safetensors writer that streams tensor data: tensors are declared first (the JSON header needs
// every offset), then written one at a time in declaration order.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/status.h"

namespace sg::testmodel {

class SafetensorsStreamWriter {
 public:
  ~SafetensorsStreamWriter();

  // type: F32, F16 or BF16; shape outermost first.
  Status DeclareTensor(const std::string& name, DType type, const std::vector<int64_t>& shape);
  uint64_t data_size() const { return data_size_; }
  Status Begin(const std::string& path);
  Status WriteNextTensor(const uint8_t* data, uint64_t size);
  Status Finish();

 private:
  struct Info {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Info> infos_;
  uint64_t data_size_ = 0;
  size_t next_ = 0;
  std::FILE* file_ = nullptr;
  std::string path_;
};

}  // namespace sg::testmodel
