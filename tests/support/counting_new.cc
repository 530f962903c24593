#include "counting_new.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Clang's ThreadSanitizer runtime is linked statically and defines operator new/delete itself
// (in the same object as the sized and aligned forms), so a replacement cannot be linked there;
// the allocation checks run in the Release and ASan builds instead.
#if !defined(STREAMGEN_NO_COUNTING_NEW)
void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// The nothrow forms too: std::stable_sort's temporary buffer comes from operator new(n,
// nothrow) and goes back through the plain operator delete above, so the two must pair (ASan
// reports new-vs-free otherwise).
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif

namespace sg::test {

long AllocationCount() { return g_allocations.load(std::memory_order_relaxed); }

bool AllocationCountingOn() {
#if defined(STREAMGEN_NO_COUNTING_NEW)
  return false;
#else
  return true;
#endif
}

}  // namespace sg::test
