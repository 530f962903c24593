// Software prefetch of a byte range: one hint per 64-byte cache line it touches. A hint never
// faults and never changes a result; it only starts the line's way towards the chosen level.
// Thread rules: none.
#pragma once

#include <cstdint>

namespace sg {

enum class PrefetchTo { kL1, kL2 };

// GCC and Clang emit prefetcht0 for locality 3 and prefetcht1 for 2 on x86.
template <PrefetchTo kTo>
inline void PrefetchRange(const void* p, int64_t bytes) {
  const auto first = reinterpret_cast<uintptr_t>(p);
  const auto end = first + static_cast<uintptr_t>(bytes);
  for (uintptr_t line = first & ~uintptr_t{63}; line < end; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), 0, kTo == PrefetchTo::kL1 ? 3 : 2);
  }
}

}  // namespace sg
