#include "engine/core/huge_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sg {

StatusOr<std::unique_ptr<HugeBuffer>> HugeBuffer::Allocate(uint64_t bytes) {
  auto buffer = std::unique_ptr<HugeBuffer>(new HugeBuffer());
  if (bytes == 0) return buffer;
  // Round up to whole huge pages and map one more, to align the start.
  const uint64_t size = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const uint64_t map_bytes = size + kHugePageBytes;
  void* map = ::mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) {
    return ResourceExhaustedError("cannot map " + std::to_string(bytes >> 20) +
                                  " MiB of memory for the weights: " + std::strerror(errno));
  }
  const auto start = reinterpret_cast<uintptr_t>(map);
  const uintptr_t aligned = (start + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  buffer->map_ = map;
  buffer->map_bytes_ = map_bytes;
  buffer->data_ = reinterpret_cast<std::byte*>(aligned);
  buffer->size_ = bytes;
#ifdef MADV_HUGEPAGE
  buffer->advised_ = ::madvise(buffer->data_, size, MADV_HUGEPAGE) == 0;
#endif
  return buffer;
}

HugeBuffer::~HugeBuffer() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
}

}  // namespace sg
