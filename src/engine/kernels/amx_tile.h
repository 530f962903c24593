// The AMX tile instructions as inline assembly (no compiler target needed), shared by the int8
// strip kernels (amx_gemm-inl.h) and the bfloat16 kernels of F16 weights (amx_half.cc). Each
// instruction names its tile registers in the opcode, so the register numbers are template
// arguments, printed into the mnemonic as immediates.
// Thread rules: the tile state is per thread; a kernel loads its configuration (AmxLoadConfig),
// runs, and releases it (AmxRelease) within one call.
#pragma once

#include <cstdint>

namespace sg {

template <int kT>
inline void AmxTileLoad(const void* base, int64_t stride) {
  __asm__ volatile("tileloadd (%0,%1,1), %%tmm%c2" : : "r"(base), "r"(stride), "i"(kT) : "memory");
}
template <int kT>
inline void AmxTileStore(void* base, int64_t stride) {
  __asm__ volatile("tilestored %%tmm%c2, (%0,%1,1)" : : "r"(base), "r"(stride), "i"(kT) : "memory");
}
template <int kT>
inline void AmxTileZero() {
  __asm__ volatile("tilezero %%tmm%c0" : : "i"(kT));
}
// dst += a . b over signed bytes (Intel order tdpbssd dst, a, b; AT&T reverses it).
template <int kDst, int kA, int kB>
inline void AmxDpbssd() {
  __asm__ volatile("tdpbssd %%tmm%c0, %%tmm%c1, %%tmm%c2" : : "i"(kB), "i"(kA), "i"(kDst));
}
// dst += a . b over bfloat16 pairs, in f32 (the same operand order).
template <int kDst, int kA, int kB>
inline void AmxDpbf16ps() {
  __asm__ volatile("tdpbf16ps %%tmm%c0, %%tmm%c1, %%tmm%c2" : : "i"(kB), "i"(kA), "i"(kDst));
}

// The 64-byte tile configuration (palette 1): per register, its rows and bytes per row.
struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};
static_assert(sizeof(AmxTileConfig) == 64);

inline void AmxLoadConfig(const AmxTileConfig& cfg) {
  __asm__ volatile("ldtilecfg %0" : : "m"(cfg));
}

inline void AmxRelease() { __asm__ volatile("tilerelease" ::: "memory"); }

}  // namespace sg
