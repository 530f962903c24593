// A whole file mapped read-only into memory. Model weights are views into such mappings, so
// loading never copies weights: pages are read from disk when first touched.
// Thread rules: immutable after Open; any thread may read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/core/status.h"

namespace sg {

class MappedFile {
 public:
  // Maps `path` read-only. A zero-length file maps to size() == 0, data() == nullptr.
  static StatusOr<std::shared_ptr<MappedFile>> Open(const std::string& path);
  // A mapping over bytes held in memory (tests and fuzzers): no file, the bytes are copied.
  static std::shared_ptr<MappedFile> FromBytes(std::string name, const void* data, size_t size);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Asks the kernel to start reading [offset, offset+length) from disk (madvise WILLNEED); a hint
  // only, clamped to the file, a no-op for in-memory bytes. Any thread.
  void AdviseWillNeed(uint64_t offset, uint64_t length) const;
  // Drops this process's resident pages of the mapping (madvise DONTNEED): after the weights
  // were copied elsewhere, so resident memory holds one copy. The mapping stays valid: a later
  // read faults the page in again from the file. A no-op for in-memory bytes. Any thread.
  void ReleaseResidentPages() const;

 private:
  MappedFile() = default;
  std::string path_;
  const std::byte* data_ = nullptr;
  uint64_t size_ = 0;
  bool is_mmap_ = false;
};

}  // namespace sg
