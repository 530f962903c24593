// The compute roofs printed by benchmarks beside prefill results: the f32 FMA throughput (float
// weights) and the int8 multiply-add throughput (quantized weights) of the selected SIMD target on
// every thread of the pool at once.
// Thread rules: call from the thread that owns `pool`; takes about 0.2 s.
#pragma once

#include <string>

#include "engine/core/thread_pool.h"

namespace sg {

// Peak f32 GFLOP/s (1e9 float operations per second; an FMA counts 2) measured with register-only
// FMA chains on all threads of `pool`, best of 3 runs. No memory traffic: an upper bound that
// real kernels approach only when compute-bound.
double MeasurePeakGflops(ThreadPool& pool);

// Peak int8 GOP/s (1e9 int8 operations per second; a multiply-add counts 2) of the selected
// target's integer products (QuantDotKernels::int8_probe: AMX tiles, VNNI or maddubs) on all
// threads of `pool`, best of 3 runs; 0 where the target has no probe. *how names the instruction.
double MeasurePeakInt8Gops(ThreadPool& pool, std::string* how);

// Peak bfloat16 GFLOP/s of the AMX tile unit (TDPBF16PS, amx_half.h) on all threads of `pool`,
// best of 3 runs; 0 where the F16 kernels do not use it (QuantDotKernels::half_amx).
double MeasurePeakBf16Gflops(ThreadPool& pool);

}  // namespace sg
