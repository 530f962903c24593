#include "engine/core/machine.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <new>
#include <vector>

#include "engine/core/huge_buffer.h"

namespace sg {

std::string CpuName() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    if (start != std::string::npos) return line.substr(start);
  }
  return "unknown CPU";
}

uint64_t AvailableMemoryBytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    // "MemAvailable:   19954688 kB"
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    return std::strtoull(line.c_str() + 13, nullptr, 10) * 1024;
  }
  return 0;
}

namespace {

// Sums 64-bit words with 8 independent accumulators so the loop is load-bound, not add-bound.
// Portable form: the compiler may or may not vectorize it (GCC's -O2 does not always).
uint64_t SumWordsPortable(const uint64_t* p, size_t n) {
  uint64_t s[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) s[k] += p[i + k];
  }
  for (; i < n; ++i) s[0] += p[i];
  uint64_t total = 0;
  for (uint64_t v : s) total += v;
  return total;
}

#if defined(__x86_64__)
// 32-byte loads into 4 vector accumulators: one core can then read far faster than DRAM
// delivers, so the figure is the memory's, not this loop's (a scalar loop of 8-byte loads tops
// out near 24 GB/s per core, below what two cores of these machines can stream).
using U64x4 = uint64_t __attribute__((vector_size(32)));

__attribute__((target("avx2"))) uint64_t SumWordsAvx2(const uint64_t* p, size_t n) {
  U64x4 a = {}, b = {}, c = {}, d = {};
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    U64x4 v[4];
    std::memcpy(v, p + i, sizeof(v));
    a += v[0];
    b += v[1];
    c += v[2];
    d += v[3];
  }
  const U64x4 s = a + b + c + d;
  return s[0] + s[1] + s[2] + s[3] + SumWordsPortable(p + i, n - i);
}
#endif

uint64_t SumWords(const uint64_t* p, size_t n) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return SumWordsAvx2(p, n);
#endif
  return SumWordsPortable(p, n);
}

}  // namespace

double MeasureMemoryBandwidthGBs(ThreadPool& pool, size_t bytes, int repeats) {
  const size_t words = bytes / sizeof(uint64_t);
  if (words == 0) return 0.0;
  // On 2 MiB pages, as the packed weights are (HugeBuffer): the bandwidth decode can reach.
  StatusOr<std::unique_ptr<HugeBuffer>> mem = HugeBuffer::Allocate(words * sizeof(uint64_t));
  if (!mem.ok()) return 0.0;
  auto* buf = reinterpret_cast<uint64_t*>((*mem)->data());
  const int threads = pool.num_threads();
  // Each thread writes (first touch: pages land on its NUMA node) then reads the same slice.
  pool.ParallelFor(static_cast<int64_t>(words), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) buf[i] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> sinks(static_cast<size_t>(threads) * 8, 0);  // 64 B apart: no sharing
  double best_s = 0.0;
  for (int pass = 0; pass <= std::max(1, repeats); ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    pool.Run([&](int t) {
      const size_t b = words * t / threads, e = words * (t + 1) / threads;
      sinks[static_cast<size_t>(t) * 8] += SumWords(buf + b, e - b);
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (pass == 0) continue;  // warm-up
    if (best_s == 0.0 || s < best_s) best_s = s;
  }
  // Keep the sums observable so the reads cannot be optimized away.
  volatile uint64_t sink = 0;
  for (uint64_t v : sinks) sink = sink + v;
  (void)sink;
  return best_s > 0.0 ? static_cast<double>(words * sizeof(uint64_t)) / best_s / 1e9 : 0.0;
}

}  // namespace sg
