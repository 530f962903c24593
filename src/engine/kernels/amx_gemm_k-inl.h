// The AMX strip kernel (quant_dot.h, QuantGemm16Fn) of the 8-row Q4_K layout, and the packing of
// Q8_K activation rows into 16-token tiles. Included by quant_dot_highway.cc after
// amx_gemm-inl.h (whose tile instructions, permutation and scratch it uses), INSIDE namespace
// sg::HWY_NAMESPACE for the AVX3_DL target.
//
// Exactness, against the K spec (quant_dot.h; StepRows8Q4_K), per super-block and (token, row):
// one TDPBSSD per 32-element sub-block j gives its exact code sum C_j (codes 0..15 times
// activation codes in [-127, 127]: |C_j| <= 60960). The spec's integer isum = sum_j sc_j C_j is
// formed in float without rounding: every product sc_j C_j (sc_j <= 63) is an integer below 2^22,
// and each half (j < 4, j >= 4) sums to below 2^24, so both halves are exact and their one float
// addition rounds the exact isum once, as float(isum) does. msum = sum_j m_j bsum_j is below 2^21
// and exact the same way. The two FMAs per super-block are then the spec's, so every output
// equals the group kernel's bit for bit.
//
// Layouts (per 16-row strip, in AmxScratch): B tiles, 8 per super-block (sub-block j's codes),
// then 18 float vectors per super-block: sc_j (8), m_j (8), d, dmin of the 16 rows.
// Token tiles (Tiles16Bytes(kQ8_K)): per super-block 8 A tiles (row t = token t's 32 codes of
// sub-block j), then per super-block 16 scales d, then per super-block and j 16 floats
// bsums[2j] + bsums[2j + 1].

// PackTiles16Fn for Q8_K rows.
void PackTiles16K(const void* act, int64_t act_stride, int64_t num_tokens, int64_t n,
                  int64_t first_tile, int64_t end_tile, void* tiles) {
  const int64_t nsb = n / kQKK;
  const std::byte* rows = static_cast<const std::byte*>(act);
  for (int64_t tile = first_tile; tile < end_tile; ++tile) {
    auto* codes = reinterpret_cast<__m256i*>(static_cast<std::byte*>(tiles) +
                                             Tiles16Bytes(DType::kQ8_K, 16 * tile, n));
    auto* scales = reinterpret_cast<float*>(codes + 16 * 8 * nsb);
    float* bsums = scales + 16 * nsb;
    const int64_t m = std::min<int64_t>(16, num_tokens - 16 * tile);
    for (int64_t t = 0; t < 16; ++t) {
      const auto* blocks =
          t < m ? reinterpret_cast<const BlockQ8_K*>(rows + (16 * tile + t) * act_stride) : nullptr;
      for (int64_t sb = 0; sb < nsb; ++sb) {
        for (int j = 0; j < 8; ++j) {
          _mm256_store_si256(
              codes + 16 * (8 * sb + j) + t,
              blocks != nullptr
                  ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[sb].qs + 32 * j))
                  : _mm256_setzero_si256());
          bsums[16 * (8 * sb + j) + t] =
              blocks != nullptr
                  ? static_cast<float>(blocks[sb].bsums[2 * j] + blocks[sb].bsums[2 * j + 1])
                  : 0.0f;
        }
        scales[16 * sb + t] = blocks != nullptr ? blocks[sb].d : 0.0f;
      }
    }
  }
}

// Both groups' Q4_K tiles of every super-block into B tiles and float scales (layout above).
inline void AmxPackStripQ4K(const std::byte* g0, const std::byte* g1, int64_t nsb, AmxScratch& s) {
  const __m512i idx0 = _mm512_load_si512(kAmxPermute.idx[0]);
  const __m512i idx1 = _mm512_load_si512(kAmxPermute.idx[1]);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const std::byte* t[2] = {g0 + sb * Rows8Q4K::kTileBytes, g1 + sb * Rows8Q4K::kTileBytes};
    for (int g = 0; g < 4; ++g) {  // sub-blocks 2g (low nibbles) and 2g + 1 (high nibbles)
      __m256i q[2][2][2][4];       // [group][nibble][quad h][chunk c]
      for (int k = 0; k < 2; ++k) {
        const std::byte* codes = t[k] + kRows8Q4KHeaderBytes + 256 * g;
        for (int h = 0; h < 2; ++h) {
          for (int c = 0; c < 4; ++c) {
            const __m256i v =
                _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * (4 * h + c)));
            q[k][0][h][c] = _mm256_and_si256(v, low4);
            q[k][1][h][c] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
          }
        }
      }
      for (int e = 0; e < 2; ++e) {
        __m512i* dst = s.b + 8 * (8 * sb + 2 * g + e);
        for (int c = 0; c < 4; ++c) {
          const __m512i z0 =
              _mm512_inserti64x4(_mm512_castsi256_si512(q[0][e][0][c]), q[0][e][1][c], 1);
          const __m512i z1 =
              _mm512_inserti64x4(_mm512_castsi256_si512(q[1][e][0][c]), q[1][e][1][c], 1);
          dst[2 * c] = _mm512_permutex2var_epi32(z0, idx0, z1);
          dst[2 * c + 1] = _mm512_permutex2var_epi32(z0, idx1, z1);
        }
      }
    }
    alignas(32) uint8_t sc[2][64], mn[2][64];
    Rows8Q4K::UnpackScales(t[0], sc[0], mn[0]);
    Rows8Q4K::UnpackScales(t[1], sc[1], mn[1]);
    __m512* f = s.f + 18 * sb;
    for (int j = 0; j < 8; ++j) {
      uint64_t lo, hi;
      std::memcpy(&lo, sc[0] + 8 * j, 8);
      std::memcpy(&hi, sc[1] + 8 * j, 8);
      f[j] = _mm512_cvtepi32_ps(
          _mm512_cvtepu8_epi32(_mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo))));
      std::memcpy(&lo, mn[0] + 8 * j, 8);
      std::memcpy(&hi, mn[1] + 8 * j, 8);
      f[8 + j] = _mm512_cvtepi32_ps(
          _mm512_cvtepu8_epi32(_mm_set_epi64x(static_cast<int64_t>(hi), static_cast<int64_t>(lo))));
    }
    for (int k = 0; k < 2; ++k) {  // d, then dmin
      const __m128i h0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t[0] + 16 * k));
      const __m128i h1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t[1] + 16 * k));
      f[16 + k] = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(h0), h1, 1));
    }
  }
}

// Issues super-block sb's 8 tile products, each C tile stored to c[j].
inline void AmxProductsQ4K(const __m512i* a_tiles, const __m512i* b_tiles, int64_t sb,
                           int32_t (*c)[16][16]) {
  for (int j = 0; j < 8; j += 2) {
    AmxProduct<0, 2, 4>(a_tiles, b_tiles, 8 * sb + j);
    AmxTileStore<0>(c[j], 64);
    AmxProduct<1, 3, 5>(a_tiles, b_tiles, 8 * sb + j + 1);
    AmxTileStore<1>(c[j + 1], 64);
  }
}

// The float steps of super-block sb for the first kM tokens (see the exactness note above).
template <int kM>
HWY_INLINE void AmxFloatStepsQ4K(const int32_t (*c)[16][16], const __m512* f, const float* da,
                                 const float* bsums, __m512 (&acc)[16]) {
  const __m512 sign = _mm512_set1_ps(-0.0f);
#pragma GCC unroll 16
  for (int t = 0; t < kM; ++t) {
    __m512 half[2];
    for (int k = 0; k < 2; ++k) {
      half[k] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[4 * k][t])), f[4 * k]);
      for (int j = 4 * k + 1; j < 4 * k + 4; ++j) {
        half[k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[j][t])), f[j], half[k]);
      }
    }
    const __m512 isum = _mm512_add_ps(half[0], half[1]);
    __m512 msum = _mm512_mul_ps(f[8], _mm512_set1_ps(bsums[t]));
    for (int j = 1; j < 8; ++j)
      msum = _mm512_fmadd_ps(f[8 + j], _mm512_set1_ps(bsums[16 * j + t]), msum);
    const __m512 a = _mm512_set1_ps(da[t]);
    acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(f[16], a), isum, acc[t]);
    acc[t] = _mm512_fmadd_ps(_mm512_xor_ps(_mm512_mul_ps(f[17], a), sign), msum, acc[t]);
  }
}

// Q4_K for GemmRows16Amx: super-block sb + 1's 8 products are issued before sb's float steps.
struct AmxQ4K {
  static constexpr DType kAct = DType::kQ8_K;
  static int64_t BVectors(int64_t n) { return 64 * (n / kQKK); }
  static int64_t FVectors(int64_t n) { return 18 * (n / kQKK); }
  static void Configure() { AmxConfigure(kQK, kQK / 4); }
  static void PackStrip(const std::byte* g0, const std::byte* g1, int64_t n, AmxScratch& s) {
    AmxPackStripQ4K(g0, g1, n / kQKK, s);
  }
  template <int kM>
  static void TokenTile(const std::byte* tile, int64_t n, AmxScratch& s, __m512 (&acc)[16]) {
    const int64_t nsb = n / kQKK;
    const auto* a_tiles = reinterpret_cast<const __m512i*>(tile);
    const auto* da = reinterpret_cast<const float*>(a_tiles + 64 * nsb);
    const float* bsums = da + 16 * nsb;
    __m512 sums[16];  // a local, so it stays in registers (see AmxParityPass)
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) sums[t] = _mm512_setzero_ps();
    if (nsb > 0) AmxProductsQ4K(a_tiles, s.b, 0, s.c[0]);
    for (int64_t sb = 0; sb < nsb; ++sb) {
      if (sb + 1 < nsb) AmxProductsQ4K(a_tiles, s.b, sb + 1, s.c[(sb + 1) & 1]);
      AmxPrefetchNext(s, sb * Rows8Q4K::kTileBytes, Rows8Q4K::kTileBytes);
      AmxFloatStepsQ4K<kM>(s.c[sb & 1], s.f + 18 * sb, da + 16 * sb, bsums + 16 * 8 * sb, sums);
    }
#pragma GCC unroll 16
    for (int t = 0; t < kM; ++t) acc[t] = sums[t];
  }
};

// ---- Q6_K ---------------------------------------------------------------------------------------
// Sub-blocks of 16 elements with int8 scales: one TDPBSSD per sub-block with 16-byte A rows and
// 4-row B tiles (tile configuration AmxConfigure(16, 4)), codes taken as q - 32 in [-32, 31]. Exact
// float steps: |C_k| <= 16 * 32 * 127 = 65024, |sc_k C_k| <= 8 323 072, so one sub-block pair
// sc_k C_k + sc_{k+1} C_{k+1} (below 2^24) is exact in float; each pair converts back to int32
// exactly and the 8 pairs add in int32 to the spec's isum (the group kernel's sum q a - 32 bsum,
// times the scales, is the same integer); then the spec's one FMA per super-block.
// Strip layout: per super-block 8 spans of 32 elements, each the Q4_0-style 8-row B tile whose rows
// 0-3 are the even sub-block's 4-row tile and rows 4-7 the odd one's; then 17 float vectors per
// super-block: sc_k of the 16 rows (16), d. Token tiles: PackTiles16K's (no bsums needed).

inline void AmxPackStripQ6K(const std::byte* g0, const std::byte* g1, int64_t nsb, AmxScratch& s) {
  const __m512i idx0 = _mm512_load_si512(kAmxPermute.idx[0]);
  const __m512i idx1 = _mm512_load_si512(kAmxPermute.idx[1]);
  const __m256i offset = _mm256_set1_epi8(32);
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const std::byte* t[2] = {g0 + sb * Rows8Q6K::kTileBytes, g1 + sb * Rows8Q6K::kTileBytes};
    for (int n = 0; n < 2; ++n) {
      for (int c = 0; c < 4; ++c) {
        __m256i q[2][2][4];  // [group][quad h][span tt]: elements 128n + 32tt + 8c + i
        for (int k = 0; k < 2; ++k) {
          for (int h = 0; h < 2; ++h) {
            Rows8Q6K::Codes(t[k] + kRows8Q6KHeaderBytes, n, h, c, q[k][h]);
          }
        }
        for (int tt = 0; tt < 4; ++tt) {
          const __m512i z0 =
              _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_sub_epi8(q[0][0][tt], offset)),
                                 _mm256_sub_epi8(q[0][1][tt], offset), 1);
          const __m512i z1 =
              _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_sub_epi8(q[1][0][tt], offset)),
                                 _mm256_sub_epi8(q[1][1][tt], offset), 1);
          __m512i* dst = s.b + 8 * (8 * sb + 4 * n + tt);
          dst[2 * c] = _mm512_permutex2var_epi32(z0, idx0, z1);
          dst[2 * c + 1] = _mm512_permutex2var_epi32(z0, idx1, z1);
        }
      }
    }
    __m512* f = s.f + 17 * sb;
    for (int k = 0; k < 16; ++k) {
      alignas(16) int8_t sc[16];
      for (int g = 0; g < 2; ++g) {
        for (int r = 0; r < 8; ++r) {
          sc[8 * g + r] = static_cast<int8_t>(t[g][16 + 16 * (k / 2) + 2 * r + k % 2]);
        }
      }
      f[k] = _mm512_cvtepi32_ps(
          _mm512_cvtepi8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(sc))));
    }
    const __m128i h0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t[0]));
    const __m128i h1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t[1]));
    f[16] = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(h0), h1, 1));
  }
}

// Half hb (sub-blocks 8 (hb % 2) .. +7 of super-block hb / 2) of the token tile: 8 tile
// products, C tile of sub-block k stored to c[k % 8].
inline void AmxProductsQ6K(const std::byte* a_tiles, const __m512i* b_tiles, int64_t hb,
                           int32_t (*c)[16][16]) {
  for (int j = 0; j < 8; j += 2) {
    const int64_t span = 4 * hb + j / 2;  // 32-element span of sub-blocks j, j + 1 of this half
    AmxTileLoad<2>(a_tiles + 512 * span, kQK);
    AmxTileLoad<4>(b_tiles + 8 * span, 64);
    AmxTileZero<0>();
    AmxDpbssd<0, 2, 4>();
    AmxTileStore<0>(c[j], 64);
    AmxTileLoad<3>(a_tiles + 512 * span + 16, kQK);
    AmxTileLoad<5>(b_tiles + 8 * span + 4, 64);
    AmxTileZero<1>();
    AmxDpbssd<1, 3, 5>();
    AmxTileStore<1>(c[j + 1], 64);
  }
}

// The float steps of half hb for the first kM tokens: the half's isum share in int32 (pairs
// exact in float), kept in `part` after the first half, added and applied after the second.
template <int kM>
HWY_INLINE void AmxFloatStepsQ6K(const int32_t (*c)[16][16], const __m512* sc, bool second,
                                 __m512 d, const float* da, __m512i* part, __m512 (&acc)[16]) {
#pragma GCC unroll 16
  for (int t = 0; t < kM; ++t) {
    __m512i isum = second ? part[t] : _mm512_setzero_si512();
    for (int p = 0; p < 4; ++p) {
      __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[2 * p][t])), sc[2 * p]);
      f = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_load_si512(c[2 * p + 1][t])), sc[2 * p + 1], f);
      isum = _mm512_add_epi32(isum, _mm512_cvtps_epi32(f));
    }
    if (second) {
      acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(d, _mm512_set1_ps(da[t])), _mm512_cvtepi32_ps(isum),
                               acc[t]);
    } else {
      part[t] = isum;
    }
  }
}

// Q6_K for GemmRows16Amx: half hb + 1's 8 products are issued before half hb's float steps; the
// first half's integer sums wait in `part` for the second.
struct AmxQ6K {
  static constexpr DType kAct = DType::kQ8_K;
  static int64_t BVectors(int64_t n) { return 64 * (n / kQKK); }
  static int64_t FVectors(int64_t n) { return 17 * (n / kQKK); }
  static void Configure() { AmxConfigure(16, 4); }
  static void PackStrip(const std::byte* g0, const std::byte* g1, int64_t n, AmxScratch& s) {
    AmxPackStripQ6K(g0, g1, n / kQKK, s);
  }
  template <int kM>
  static void TokenTile(const std::byte* tile, int64_t n, AmxScratch& s, __m512 (&acc)[16]) {
    const int64_t nsb = n / kQKK;
    const auto* da = reinterpret_cast<const float*>(tile + 4096 * nsb);
    __m512i part[16];
    __m512 sums[16];  // a local, so it stays in registers (see AmxParityPass)
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) sums[t] = _mm512_setzero_ps();
    const int64_t halves = 2 * nsb;
    if (halves > 0) AmxProductsQ6K(tile, s.b, 0, s.c[0]);
    for (int64_t hb = 0; hb < halves; ++hb) {
      if (hb + 1 < halves) AmxProductsQ6K(tile, s.b, hb + 1, s.c[(hb + 1) & 1]);
      AmxPrefetchNext(s, (hb / 2) * Rows8Q6K::kTileBytes + (hb % 2) * (Rows8Q6K::kTileBytes / 2),
                      Rows8Q6K::kTileBytes / 2);
      const __m512* f = s.f + 17 * (hb / 2);
      AmxFloatStepsQ6K<kM>(s.c[hb & 1], f + 8 * (hb % 2), (hb % 2) == 1, f[16], da + 16 * (hb / 2),
                           part, sums);
    }
#pragma GCC unroll 16
    for (int t = 0; t < kM; ++t) acc[t] = sums[t];
  }
};
