// A GGUF v3 writer that streams tensor data: metadata and tensor infos are declared first, then
// each tensor's bytes are written in declaration order, so only one tensor is ever in memory.
// Independent of engine/io's reader on purpose: tests of the reader then check two
// implementations of the format against each other.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/status.h"

namespace sg::testmodel {

class GgufStreamWriter {
 public:
  ~GgufStreamWriter();

  void AddUint32(const std::string& key, uint32_t v);
  void AddInt32(const std::string& key, int32_t v);
  void AddFloat32(const std::string& key, float v);
  void AddBool(const std::string& key, bool v);
  void AddString(const std::string& key, const std::string& v);
  // shape outermost first (written innermost first, as GGUF stores ne[]).
  Status DeclareTensor(const std::string& name, DType type, const std::vector<int64_t>& shape);

  // Opens `path` and writes header, metadata and tensor infos.
  Status Begin(const std::string& path);
  // The next declared tensor's bytes (exactly its size), then alignment padding.
  Status WriteNextTensor(const uint8_t* data, uint64_t size);
  // Checks every tensor was written and closes the file.
  Status Finish();

 private:
  struct Info {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    uint64_t offset;
    uint64_t nbytes;
  };
  Status Put(const void* data, size_t size);
  void Key(const std::string& key, uint32_t type);

  static constexpr uint64_t kAlignment = 32;
  std::string kv_bytes_;  // encoded key/value pairs
  uint64_t kv_count_ = 0;
  std::vector<Info> infos_;
  uint64_t data_size_ = 0;  // of the data section so far, aligned
  size_t next_ = 0;
  std::FILE* file_ = nullptr;
  std::string path_;
};

}  // namespace sg::testmodel
