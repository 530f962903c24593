// The AMX-BF16 kernels of F16 weights (amx_half.h).
//
// Orientation: the weights are the A operand (16 rows of a strip, 32 elements of a chunk: a row
// of the tile is a row of the weight matrix, so the f16 rows convert in place, no transpose), the
// tokens the B operand (packed once per matmul by PackHalfTiles), C is 16 rows x 16 tokens.
//
// Tile registers (fixed: each tile instruction names its registers in the opcode):
//   tmm0..tmm3  C: up to four token tiles of one strip (16 rows x 16 tokens of f32)
//   tmm4, tmm5  A: the strip's wh and wl of one chunk (16 rows x 32 bfloat16)
//   tmm6, tmm7  B: one token tile's xh and xl of that chunk (16 pair-rows x 16 tokens)
//
// Loop nest: token super-tiles whose packed activations fit in about 1 MiB (L2), then the strips
// of the call's rows (each strip converted once per super-tile into per-thread scratch, then read
// from L1/L2), then groups of four token tiles (four C tiles), then the chunks. Every C element
// is its own row's and token's chain over the chunks in order, so the result of a (row, token)
// does not depend on the loop nest, the strip boundaries or the other tokens.
// Thread rules: amx_half.h.
#include "engine/kernels/amx_half.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "engine/kernels/amx.h"
#include "engine/kernels/amx_tile.h"

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <hwy/base.h>
#include <immintrin.h>
#define SG_AMX_HALF 1
#else
#define SG_AMX_HALF 0
#endif

namespace sg {
namespace {

constexpr int64_t kChunk = 32;             // elements per tile row (32 bfloat16 = 64 bytes)
constexpr int64_t kTileBytes = 1024;       // one 16 x 64-byte tile
constexpr int64_t kChunkPairBytes = 2048;  // the hi and lo tiles of one chunk
constexpr int64_t kSuperTileBytes = 1 << 20;
constexpr int64_t kPrefetchChunks = 4;  // ahead; measured (16 tokens): 4 beat 8 and 16

int64_t Chunks(int64_t n) { return (n + kChunk - 1) / kChunk; }

#if SG_AMX_HALF
bool Probe() {
  if (!AmxUsable()) return false;
  const char* env = std::getenv("STREAMGEN_AMX_F16");
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool amx_bf16 = (edx >> 22) & 1;
  const bool avx512f = (ebx >> 16) & 1, avx512dq = (ebx >> 17) & 1;
  const bool avx512bw = (ebx >> 30) & 1, avx512vl = (ebx >> 31) & 1;
  if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool avx512_bf16 = (eax >> 5) & 1;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const bool f16c = (ecx >> 29) & 1;
  return amx_bf16 && avx512f && avx512dq && avx512bw && avx512vl && avx512_bf16 && f16c;
}
#else
bool Probe() { return false; }
#endif

}  // namespace

bool AmxHalfUsable() {
  static const bool usable = Probe();
  return usable;
}

int64_t HalfTilesBytes(int64_t num_tokens, int64_t n) {
  return (num_tokens + 15) / 16 * Chunks(n) * kChunkPairBytes;
}

}  // namespace sg

#if SG_AMX_HALF
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 reports the intrinsics' own _mm512_undefined_* placeholders (`__Y = __Y`) as maybe
// uninitialized once they are inlined here; nothing of this file is read uninitialized.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Everything below runs only where AmxHalfUsable() said yes; std templates instantiated here are
// defined outside this region, so they keep the baseline ISA.
HWY_PUSH_ATTRIBUTES("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,f16c,fma")

namespace sg {
namespace {

// All eight registers 16 rows x 64 bytes.
inline void Configure() {
  AmxTileConfig cfg;
  for (int i = 0; i < 8; ++i) {
    cfg.rows[i] = 16;
    cfg.colsb[i] = 64;
  }
  AmxLoadConfig(cfg);
}

// The bfloat16 (to nearest even) of 16 floats, and the floats it stands for.
inline __m256i ToBf16(__m512 f) {
  const __m256bh h = _mm512_cvtneps_pbh(f);
  __m256i bits;
  std::memcpy(&bits, &h, sizeof bits);
  return bits;
}
// 32 bfloat16 (to nearest even): elements 0..15 from lo, 16..31 from hi.
inline __m512i ToBf16x2(__m512 hi, __m512 lo) {
  const __m512bh h = _mm512_cvtne2ps_pbh(hi, lo);
  __m512i bits;
  std::memcpy(&bits, &h, sizeof bits);
  return bits;
}
inline __m512 FromBf16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Splits 16 floats into hi = bf16(f) and lo = bf16(f - hi), stored as 32 bytes each.
inline void Split(__m512 f, void* hi, void* lo) {
  const __m256i h = ToBf16(f);
  _mm256_store_si256(static_cast<__m256i*>(hi), h);
  _mm256_store_si256(static_cast<__m256i*>(lo), ToBf16(_mm512_sub_ps(f, FromBf16(h))));
}

// Per-thread scratch: a strip's A tiles (per chunk: wh tile, then wl tile) and one stored C tile.
struct HalfScratch {
  std::byte* a = nullptr;
  int64_t a_bytes = 0;
  alignas(64) float c[16][16] = {};
  alignas(64) std::byte chunk[2][kChunkPairBytes] = {};      // StripTiles' buffers
  alignas(64) std::byte strips[2][4][kChunkPairBytes] = {};  // StripsOneTokenTile's

  HalfScratch() = default;
  HalfScratch(const HalfScratch&) = delete;
  HalfScratch& operator=(const HalfScratch&) = delete;
  ~HalfScratch() { std::free(a); }

  void Reserve(int64_t bytes) {
    if (bytes <= a_bytes) return;
    std::free(a);
    a = static_cast<std::byte*>(std::aligned_alloc(64, static_cast<size_t>(bytes)));
    if (a == nullptr) throw std::bad_alloc();
    a_bytes = bytes;
  }
};

HalfScratch& ThreadScratch() {
  static thread_local HalfScratch scratch;
  return scratch;
}

// Veltkamp's split of an f16 value held in a float: hi = f rounded to 8 significant bits (to
// nearest), and f - hi, both exact in bfloat16 (an f16 value has 11 significant bits, so the rest
// has at most 4, at f's exponent). Three ops on the FMA ports where vcvtneps2bf16 and widening
// back would be five, most of them on the one shuffle port. The empty asm keeps the compiler from
// contracting gamma - f into a fused multiply-subtract, which would not split.
inline __m512 VeltkampHi(__m512 f) {
  __m512 gamma = _mm512_mul_ps(f, _mm512_set1_ps(65537.0f));  // 2^16 + 1: keep 24 - 16 bits
  __asm__("" : "+v"(gamma));
  return _mm512_sub_ps(gamma, _mm512_sub_ps(gamma, f));
}

// Chunk c of rows [0, rows) of a strip (rows <= 16; the other rows of the tiles are left as they
// are) into its A tiles: wh at a, wl at a + kTileBytes (64 bytes per row). BF16 weights are their
// own wh (copied; wl is not written and not used).
inline void ConvertChunk(const uint16_t* w, int64_t w_stride, int64_t rows, int64_t n, int64_t c,
                         bool bf16, std::byte* a) {
  const bool tail = (c + 1) * kChunk > n;  // elements past n read as zeros
  const int64_t left = n - c * kChunk;
  const __mmask16 m0 = _cvtu32_mask16(!tail || left >= 16 ? 0xFFFFu : (1u << left) - 1u);
  const __mmask16 m1 = _cvtu32_mask16(!tail ? 0xFFFFu : left > 16 ? (1u << (left - 16)) - 1u : 0u);
  for (int64_t i = 0; i < rows; ++i) {
    const uint16_t* src = w + i * w_stride + c * kChunk;
    // 16 rows read 64 bytes at a time are more streams than the hardware prefetchers follow.
    _mm_prefetch(reinterpret_cast<const char*>(src + kPrefetchChunks * kChunk), _MM_HINT_T0);
    const __m256i v0 = tail ? _mm256_maskz_loadu_epi16(m0, src)
                            : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    const __m256i v1 = tail ? _mm256_maskz_loadu_epi16(m1, src + 16)
                            : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 16));
    if (bf16) {
      _mm512_store_si512(a + i * 64, _mm512_inserti64x4(_mm512_castsi256_si512(v0), v1, 1));
      continue;
    }
    const __m512 f0 = _mm512_cvtph_ps(v0), f1 = _mm512_cvtph_ps(v1);
    const __m512 h0 = VeltkampHi(f0), h1 = VeltkampHi(f1);
    // Exact conversions (the values are bfloat16 already); elements 0..15 from the second operand.
    _mm512_store_si512(a + i * 64, ToBf16x2(h1, h0));
    _mm512_store_si512(a + kTileBytes + i * 64,
                       ToBf16x2(_mm512_sub_ps(f1, h1), _mm512_sub_ps(f0, h0)));
  }
}

// Every chunk of a strip into A tiles (chunk c at a + c * kChunkPairBytes); rows past `rows` zero.
void ConvertStrip(const uint16_t* w, int64_t w_stride, int64_t rows, int64_t n, bool bf16,
                  std::byte* a) {
  const int64_t chunks = Chunks(n);
  if (rows < 16) std::memset(a, 0, static_cast<size_t>(chunks * kChunkPairBytes));
  for (int64_t c = 0; c < chunks; ++c) {
    ConvertChunk(w, w_stride, rows, n, c, bf16, a + c * kChunkPairBytes);
  }
}

// C tile kC += the strip's chunk (A tiles 4, 5, loaded) times token tile kC's chunk at
// bc + kC * b_stride: wh * xh, then wh * xl, then (F16 weights) wl * xh.
template <int kC>
inline void TokenTileProducts(const std::byte* bc, int64_t b_stride, bool bf16) {
  AmxTileLoad<6>(bc + kC * b_stride, 64);
  AmxTileLoad<7>(bc + kC * b_stride + kTileBytes, 64);
  AmxDpbf16ps<kC, 4, 6>();
  AmxDpbf16ps<kC, 4, 7>();
  if (!bf16) AmxDpbf16ps<kC, 5, 6>();
}

// Zeroes C tiles 0 .. kCount - 1.
template <int kCount>
inline void ZeroC() {
  if constexpr (kCount > 0) AmxTileZero<0>();
  if constexpr (kCount > 1) AmxTileZero<1>();
  if constexpr (kCount > 2) AmxTileZero<2>();
  if constexpr (kCount > 3) AmxTileZero<3>();
}

// The f16 (or bf16) rows of one strip: rows [0, rows) at w, w_stride elements apart, n each.
struct StripRows {
  const uint16_t* w;
  int64_t w_stride, rows, n;
  bool bf16;
};

// kBlocks token tiles (C tiles 0 .. kBlocks - 1) of one strip over every chunk. The strip comes
// converted (`a`: chunk c at a + c * kChunkPairBytes) or, with a null `a`, is converted chunk by
// chunk just before its products into two 2 KiB buffers used in turn (L1): for a single group of
// token tiles, which reads the strip once, so its converted form need not go through L2.
template <int kBlocks>
void StripTiles(const std::byte* a, const StripRows& src, const std::byte* b,
                std::byte (*buf)[kChunkPairBytes]) {
  const int64_t chunks = Chunks(src.n);
  if (a == nullptr && src.rows < 16) std::memset(buf, 0, 2 * kChunkPairBytes);
  ZeroC<kBlocks>();
  const int64_t b_stride = chunks * kChunkPairBytes;  // bytes from one token tile to the next
  for (int64_t c = 0; c < chunks; ++c) {
    const std::byte* ac = buf[c & 1];
    if (a != nullptr) {
      ac = a + c * kChunkPairBytes;
    } else {
      ConvertChunk(src.w, src.w_stride, src.rows, src.n, c, src.bf16, buf[c & 1]);
    }
    const std::byte* bc = b + c * kChunkPairBytes;
    AmxTileLoad<4>(ac, 64);
    if (!src.bf16) AmxTileLoad<5>(ac + kTileBytes, 64);
    if constexpr (kBlocks > 0) TokenTileProducts<0>(bc, b_stride, src.bf16);
    if constexpr (kBlocks > 1) TokenTileProducts<1>(bc, b_stride, src.bf16);
    if constexpr (kBlocks > 2) TokenTileProducts<2>(bc, b_stride, src.bf16);
    if constexpr (kBlocks > 3) TokenTileProducts<3>(bc, b_stride, src.bf16);
  }
}

// Up to 16 tokens (one token tile: small batches, batched decode) against kStrips strips of 16
// rows at once, C tile j for strip j: the token tile's chunk is loaded once for all of them, and
// the strips' accumulations are independent chains for the tile unit (measured 345 against 300
// GFLOP/s for one strip at a time, kernel_bench f16 2048 x 2048, 16 tokens). Rows past `rows`
// (counted from the first strip) are zeros. Chunks are converted as they are used, as above.
template <int kStrips>
void StripsOneTokenTile(const StripRows& src, const std::byte* b,
                        std::byte (*buf)[4][kChunkPairBytes]) {
  const int64_t chunks = Chunks(src.n);
  if (src.rows < 16 * kStrips) std::memset(buf, 0, 2 * 4 * kChunkPairBytes);
  ZeroC<kStrips>();
  for (int64_t c = 0; c < chunks; ++c) {
    const std::byte* bc = b + c * kChunkPairBytes;
    AmxTileLoad<6>(bc, 64);
    AmxTileLoad<7>(bc + kTileBytes, 64);
    auto strip = [&](auto j) {
      constexpr int kJ = decltype(j)::value;
      std::byte* a = buf[c & 1][kJ];
      ConvertChunk(src.w + 16 * kJ * src.w_stride, src.w_stride,
                   std::min<int64_t>(16, src.rows - 16 * kJ), src.n, c, src.bf16, a);
      AmxTileLoad<4>(a, 64);
      AmxDpbf16ps<kJ, 4, 6>();  // wh * xh
      AmxDpbf16ps<kJ, 4, 7>();  // wh * xl
      if (!src.bf16) {
        AmxTileLoad<5>(a + kTileBytes, 64);
        AmxDpbf16ps<kJ, 5, 6>();  // wl * xh
      }
    };
    if constexpr (kStrips > 0) strip(std::integral_constant<int, 0>{});
    if constexpr (kStrips > 1) strip(std::integral_constant<int, 1>{});
    if constexpr (kStrips > 2) strip(std::integral_constant<int, 2>{});
    if constexpr (kStrips > 3) strip(std::integral_constant<int, 3>{});
  }
}

// fn(std::integral_constant<int, k>) for k = count, 1 <= count <= 4 (tile registers are named
// in the opcode, so the kernels take their counts as template arguments).
template <class Fn>
inline void Dispatch4(int count, Fn&& fn) {
  switch (count) {
    case 1:
      return fn(std::integral_constant<int, 1>{});
    case 2:
      return fn(std::integral_constant<int, 2>{});
    case 3:
      return fn(std::integral_constant<int, 3>{});
    default:
      return fn(std::integral_constant<int, 4>{});
  }
}

// C tile j (0..3; rows x 16 tokens) into out for its first min(16, tokens) tokens.
void WriteC(int j, HalfScratch& s, int64_t rows, int64_t tokens, float* out, int64_t out_stride,
            bool accumulate) {
  switch (j) {
    case 0:
      AmxTileStore<0>(s.c, 64);
      break;
    case 1:
      AmxTileStore<1>(s.c, 64);
      break;
    case 2:
      AmxTileStore<2>(s.c, 64);
      break;
    default:
      AmxTileStore<3>(s.c, 64);
      break;
  }
  for (int64_t t = 0; t < std::min<int64_t>(16, tokens); ++t) {
    float* o = out + t * out_stride;
    for (int64_t r = 0; r < rows; ++r) o[r] = accumulate ? o[r] + s.c[r][t] : s.c[r][t];
  }
}

}  // namespace

void PackHalfTiles(const float* x, int64_t x_stride, int64_t num_tokens, int64_t n,
                   int64_t first_tile, int64_t end_tile, void* tiles) {
  const int64_t chunks = Chunks(n);
  const int64_t full = n / kChunk;
  // Dword j of a token's 64-byte chunk row (its elements 2j, 2j + 1) goes to row j of the tile.
  const __m512i rows =
      _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                         _mm512_set1_epi32(64));
  alignas(64) uint16_t hi[32], lo[32];
  for (int64_t tile = first_tile; tile < end_tile; ++tile) {
    std::byte* base = static_cast<std::byte*>(tiles) + tile * chunks * kChunkPairBytes;
    const int64_t m = std::min<int64_t>(16, num_tokens - 16 * tile);
    if (m < 16) std::memset(base, 0, static_cast<size_t>(chunks * kChunkPairBytes));
    for (int64_t t = 0; t < m; ++t) {
      const float* row = x + (16 * tile + t) * x_stride;
      for (int64_t c = 0; c < chunks; ++c) {
        __m512 f0, f1;
        if (c < full) {
          f0 = _mm512_loadu_ps(row + c * kChunk);
          f1 = _mm512_loadu_ps(row + c * kChunk + 16);
        } else {
          const int64_t left = n - c * kChunk;  // 1 .. 31
          const __mmask16 m0 = _cvtu32_mask16(left >= 16 ? 0xFFFFu : (1u << left) - 1u);
          const __mmask16 m1 = _cvtu32_mask16(left > 16 ? (1u << (left - 16)) - 1u : 0u);
          f0 = _mm512_maskz_loadu_ps(m0, row + c * kChunk);
          f1 = _mm512_maskz_loadu_ps(m1, row + c * kChunk + 16);
        }
        Split(f0, hi, lo);
        Split(f1, hi + 16, lo + 16);
        std::byte* dst = base + c * kChunkPairBytes + t * 4;
        _mm512_i32scatter_epi32(dst, rows, _mm512_load_si512(hi), 1);
        _mm512_i32scatter_epi32(dst + kTileBytes, rows, _mm512_load_si512(lo), 1);
      }
    }
  }
}

void HalfGemmAmx(const uint16_t* w, int64_t w_stride, int64_t num_rows, const void* tiles,
                 int64_t num_tokens, int64_t n, float* out, int64_t out_stride, bool accumulate,
                 bool bf16_weights) {
  if (num_rows <= 0 || num_tokens <= 0) return;
  const auto* packed = static_cast<const std::byte*>(tiles);
  const int64_t token_tiles = (num_tokens + 15) / 16;
  const int64_t tile_bytes = Chunks(n) * kChunkPairBytes;  // one token tile, every chunk
  HalfScratch& s = ThreadScratch();
  Configure();
  if (token_tiles == 1) {
    for (int64_t r0 = 0; r0 < num_rows; r0 += 64) {
      const StripRows src{w + r0 * w_stride, w_stride, std::min<int64_t>(64, num_rows - r0), n,
                          bf16_weights};
      const int strips = static_cast<int>((src.rows + 15) / 16);
      Dispatch4(strips,
                [&](auto k) { StripsOneTokenTile<decltype(k)::value>(src, packed, s.strips); });
      for (int j = 0; j < strips; ++j) {
        WriteC(j, s, std::min<int64_t>(16, src.rows - 16 * j), num_tokens, out + r0 + 16 * j,
               out_stride, accumulate);
      }
    }
    AmxRelease();
    return;
  }
  // Token super-tiles of about kSuperTileBytes of packed activations (L2), at least 4 tiles.
  const int64_t super = std::clamp<int64_t>(kSuperTileBytes / tile_bytes, 4, 64);
  s.Reserve(tile_bytes);
  for (int64_t s0 = 0; s0 < token_tiles; s0 += super) {
    const int64_t s1 = std::min(token_tiles, s0 + super);
    const bool once = s1 - s0 <= 4;  // one group: each strip is read once, converted as used
    for (int64_t r0 = 0; r0 < num_rows; r0 += 16) {
      const StripRows src{w + r0 * w_stride, w_stride, std::min<int64_t>(16, num_rows - r0), n,
                          bf16_weights};
      if (!once) ConvertStrip(src.w, w_stride, src.rows, n, bf16_weights, s.a);
      for (int64_t g = s0; g < s1; g += 4) {
        const int blocks = static_cast<int>(std::min<int64_t>(4, s1 - g));
        Dispatch4(blocks, [&](auto k) {
          StripTiles<decltype(k)::value>(once ? nullptr : s.a, src, packed + g * tile_bytes,
                                         s.chunk);
        });
        for (int j = 0; j < blocks; ++j) {
          const int64_t t0 = 16 * (g + j);
          WriteC(j, s, src.rows, num_tokens - t0, out + t0 * out_stride + r0, out_stride,
                 accumulate);
        }
      }
    }
  }
  AmxRelease();
}

double AmxHalfProbe(int64_t iterations) {
  alignas(64) static const uint16_t kZeros[16 * 32] = {};
  Configure();
  ZeroC<4>();
  AmxTileLoad<4>(kZeros, 64);
  AmxTileLoad<6>(kZeros, 64);
  for (int64_t i = 0; i < iterations; ++i) {
    AmxDpbf16ps<0, 4, 6>();
    AmxDpbf16ps<1, 4, 6>();
    AmxDpbf16ps<2, 4, 6>();
    AmxDpbf16ps<3, 4, 6>();
  }
  AmxRelease();
  return static_cast<double>(iterations) * 4 * 16 * 16 * 32 * 2;
}

}  // namespace sg

HWY_POP_ATTRIBUTES
#else
namespace sg {
void PackHalfTiles(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, void*) {}
void HalfGemmAmx(const uint16_t*, int64_t, int64_t, const void*, int64_t, int64_t, float*, int64_t,
                 bool, bool) {}
double AmxHalfProbe(int64_t) { return 0.0; }
}  // namespace sg
#endif
