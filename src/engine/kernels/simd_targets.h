// Internal to the kernels layer: the per-target kernel tables that simd_dispatch.cc chooses from.
#pragma once

#include <string>
#include <vector>

#include "engine/kernels/simd_dispatch.h"

namespace sg {

struct SimdTarget {
  std::string name;  // Highway's name: "AVX3", "AVX2", "SSE4", "SSSE3", "EMU128",
                     // "HWY_SCALAR" (Highway's one-lane fallback); or "scalar" (our twin)
  SimdKernels kernels;
};

// The Highway targets compiled into simd_highway.cc that this CPU can run, best first.
// Computed once; safe to call from any thread.
const std::vector<SimdTarget>& HighwaySimdTargets();

// The integer dot table of the Highway target currently chosen (quant_dot_highway.cc); called by
// HighwaySimdTargets while it narrows the choice to one target at a time.
QuantDotKernels QuantDotKernelsForChosenTarget();

// Puts the chosen Highway target's activation quantizers (quantize_act_highway.cc) into `k`;
// leaves the twin's where the target has none of its own.
void AddActQuantizersForChosenTarget(QuantDotKernels* k);

// The choice for a value of STREAMGEN_ISA (env may be null or empty: the best target). Never
// null. *note is set to why the result is not simply the best target (empty if it is).
const SimdTarget* ChooseSimdTarget(const char* env, std::string* note);

}  // namespace sg
