// Reading a loaded model's weights into memory up front, with progress.
// LoadModel maps files without reading them, so the first forward pass would page the weights in
// from disk (seconds to minutes for a big model, on the first request). PrefaultModel reads every
// page of the mapped files once, in file order, and reports how far it got, so a loader can draw a
// progress bar and serving starts with the weights resident.
// Thread rules: call from one thread; `progress` runs on that thread.
#pragma once

#include <cstdint>

#include "engine/core/function_ref.h"
#include "engine/model/model.h"

namespace sg {

// Total bytes of the files that back `model` (what PrefaultModel reads).
uint64_t MappedBytes(const Model& model);

// Whether prefaulting `bytes` is worth it: they fit in 90% of available memory. Reading a model
// larger than memory would only evict its own first pages; then weights are paged in on demand.
bool FitsInMemory(uint64_t bytes);

// Touches one byte per page of every mapped file of `model`, asking the kernel to read ahead
// first. Calls progress(done_bytes, total_bytes) after each step of `step_bytes` (and once at
// the end with done == total). Never fails: a page that cannot be read faults later, as it would
// have without this call.
void PrefaultModel(const Model& model, FunctionRef<void(uint64_t, uint64_t)> progress,
                   uint64_t step_bytes = uint64_t{16} << 20);

}  // namespace sg
