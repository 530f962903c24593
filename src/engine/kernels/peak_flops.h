// The compute roof printed by benchmarks beside prefill results: the f32 FMA throughput of the
// selected SIMD target on every thread of the pool at once.
// Thread rules: call from the thread that owns `pool`; takes about 0.2 s.
#pragma once

#include "engine/core/thread_pool.h"

namespace sg {

// Peak f32 GFLOP/s (1e9 float operations per second; an FMA counts 2) measured with register-only
// FMA chains on all threads of `pool`, best of 3 runs. No memory traffic: an upper bound that
// real kernels approach only when compute-bound.
double MeasurePeakGflops(ThreadPool& pool);

}  // namespace sg
