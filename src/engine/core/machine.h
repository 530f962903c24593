// Facts about the host used by benchmarks to print the physical limit beside a result: the CPU's
// name and the measured memory bandwidth, which bounds decode speed (every weight byte is read
// once per generated token).
// Thread rules: call from the thread that owns `pool` (its ParallelFor blocks until done).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/core/thread_pool.h"

namespace sg {

// The "model name" line of /proc/cpuinfo ("AMD EPYC 7B13"), or "unknown CPU".
std::string CpuName();

// MemAvailable of /proc/meminfo in bytes (memory the kernel can hand out without swapping), or 0
// if unknown.
uint64_t AvailableMemoryBytes();

// Read bandwidth in GB/s (1e9 bytes/s): every thread of `pool` sums its slice of a buffer of
// `bytes` (default 512 MiB, far above any last-level cache; on 2 MiB pages where the kernel gives
// them); best of `repeats` passes after one
// warm-up pass that also faults the pages in. Takes about a second. Allocates `bytes`; returns 0
// if the allocation fails.
double MeasureMemoryBandwidthGBs(ThreadPool& pool, size_t bytes = size_t{512} << 20,
                                 int repeats = 3);

}  // namespace sg
