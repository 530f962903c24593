// Anonymous memory for large read-mostly data (packed model weights): one private mapping whose
// start is aligned to 2 MiB and marked MADV_HUGEPAGE, so the kernel backs it with transparent huge
// pages where it can. Reading weights through 2 MiB pages needs ~500x fewer TLB entries than
// through 4 KiB pages; on the machines we measured, DRAM read bandwidth is about twice as high.
// Thread rules: the owner writes while filling it; afterwards any thread may read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/core/status.h"

namespace sg {

inline constexpr uint64_t kHugePageBytes = uint64_t{2} << 20;

class HugeBuffer {
 public:
  // ResourceExhausted if the mapping cannot be made. bytes == 0 gives an empty buffer.
  static StatusOr<std::unique_ptr<HugeBuffer>> Allocate(uint64_t bytes);
  ~HugeBuffer();
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  std::byte* data() const { return data_; }
  uint64_t size() const { return size_; }
  // Whether the kernel accepted the huge-page advice (false: 4 KiB pages, e.g. THP disabled).
  bool huge_page_advice_taken() const { return advised_; }

 private:
  HugeBuffer() = default;
  void* map_ = nullptr;  // the whole mapping (alignment slack included)
  uint64_t map_bytes_ = 0;
  std::byte* data_ = nullptr;  // 2 MiB aligned
  uint64_t size_ = 0;
  bool advised_ = false;
};

}  // namespace sg
