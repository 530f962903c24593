// Packing a loaded model's weights: every tensor the forward pass reads is copied once into one
// anonymous buffer on 2 MiB pages (HugeBuffer), 64-byte aligned, and the model's views are
// pointed at the copy; then the file mappings' resident pages are released, so resident memory
// holds one copy of the weights. Decode reads every weight byte per token, and through 2 MiB pages
// it reads them about twice as fast as through the 4 KiB pages of a file mapping. On the way, the
// Q4_0, Q5_0, Q8_0, Q4_K and Q6_K matmul weights (a tied output included) are rearranged into 8-row
// tiles (WeightLayout::kRows8, engine/quant/rows8.h) for the integer kernels, unless the reference
// kernels are selected.
// The alternative, kept for models larger than memory: leave the views on the mapping (zero copy;
// pages are read from disk on first use and may be evicted).
// Thread rules: call from one thread before any forward pass uses the model.
#pragma once

#include <cstdint>

#include "engine/core/function_ref.h"
#include "engine/core/status.h"
#include "engine/model/model.h"

namespace sg {

// Bytes PackWeights would copy (distinct tensors: a tied output counts once).
uint64_t PackedWeightBytes(const Model& model);

// Copies the weights (see above), calling progress(done_bytes, total_bytes) every `step_bytes`
// and at the end. ResourceExhausted (and the model unchanged) if the buffer cannot be had.
Status PackWeights(Model& model, FunctionRef<void(uint64_t, uint64_t)> progress,
                   uint64_t step_bytes = uint64_t{16} << 20);

}  // namespace sg
