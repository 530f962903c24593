// Intel AMX (Advanced Matrix Extensions) availability: the tile unit multiplies a 16 x 64-byte
// int8 tile by a 64 x 16 one into a 16 x 16 int32 tile in one instruction (TDPBSSD), 16x the
// int8 products of an AVX-512 VNNI instruction. The prefill and batched-decode kernels of the
// 8-row layout use it where the CPU has AMX-INT8 (Sapphire Rapids and later) and Linux lets the
// process use the tile registers (arch_prctl ARCH_REQ_XCOMP_PERM for XTILEDATA, asked once).
// STREAMGEN_AMX=0 turns the tile kernels off (benchmarks compare the two paths with it).
// Thread rules: any thread; the answer is computed once (the permission is per process).
#pragma once

#include <string>

namespace sg {

// Whether the AMX-INT8 tile kernels may run in this process.
bool AmxUsable();

// Why not, when AmxUsable() is false ("" when it is true).
std::string AmxNote();

}  // namespace sg
