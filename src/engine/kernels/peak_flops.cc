#include "engine/kernels/peak_flops.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "engine/kernels/amx_half.h"
#include "engine/kernels/simd_dispatch.h"

namespace sg {

namespace {

// Best of 3 timed runs of probe(t) on every thread t of the pool: total operations the probes
// report / wall seconds / 1e9.
template <class Probe>
double BestRateG(ThreadPool& pool, const Probe& probe) {
  std::vector<double> ops(pool.num_threads());
  double best = 0.0;
  for (int run = 0; run < 3; ++run) {
    const auto start = std::chrono::steady_clock::now();
    pool.Run([&](int t) { ops[t] = probe(t); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double total = 0.0;
    for (double o : ops) total += o;
    if (seconds > 0) best = std::max(best, total / seconds / 1e9);
  }
  return best;
}

}  // namespace

double MeasurePeakGflops(ThreadPool& pool) {
  const SimdKernels& k = GetSimdKernels();
  constexpr int64_t kIterations = 20'000'000;  // ~50 ms per thread at a few GHz
  std::vector<float> sinks(pool.num_threads());
  return BestRateG(pool, [&](int t) { return k.fma_probe(kIterations, &sinks[t]); });
}

double MeasurePeakInt8Gops(ThreadPool& pool, std::string* how) {
  const QuantDotKernels& k = GetSimdKernels().quant;
  *how = k.int8_probe_name;
  if (k.int8_probe == nullptr) return 0.0;
  constexpr int64_t kIterations = 4'000'000;  // ~80 ms per thread on AMX, ~10 ms on VNNI
  return BestRateG(pool, [&](int) { return k.int8_probe(kIterations); });
}

double MeasurePeakBf16Gflops(ThreadPool& pool) {
  if (!GetSimdKernels().quant.half_amx) return 0.0;
  constexpr int64_t kIterations = 1'000'000;  // ~70 ms per thread
  return BestRateG(pool, [&](int) { return AmxHalfProbe(kIterations); });
}

}  // namespace sg
