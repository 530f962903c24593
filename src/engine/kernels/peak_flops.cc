#include "engine/kernels/peak_flops.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "engine/kernels/simd_dispatch.h"

namespace sg {

double MeasurePeakGflops(ThreadPool& pool) {
  const SimdKernels& k = GetSimdKernels();
  constexpr int64_t kIterations = 20'000'000;  // ~50 ms per thread at a few GHz
  std::vector<double> flops(pool.num_threads());
  std::vector<float> sinks(pool.num_threads());
  double best = 0.0;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    pool.Run([&](int t) { flops[t] = k.fma_probe(kIterations, &sinks[t]); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double total = 0.0;
    for (double f : flops) total += f;
    if (seconds > 0) best = std::max(best, total / seconds / 1e9);
  }
  return best;
}

double MeasurePeakInt8Gops(ThreadPool& pool, std::string* how) {
  const QuantDotKernels& k = GetSimdKernels().quant;
  *how = k.int8_probe_name;
  if (k.int8_probe == nullptr) return 0.0;
  constexpr int64_t kIterations = 4'000'000;  // ~80 ms per thread on AMX, ~10 ms on VNNI
  std::vector<double> ops(pool.num_threads());
  double best = 0.0;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    pool.Run([&](int t) { ops[t] = k.int8_probe(kIterations); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double total = 0.0;
    for (double o : ops) total += o;
    if (seconds > 0) best = std::max(best, total / seconds / 1e9);
  }
  return best;
}

}  // namespace sg
