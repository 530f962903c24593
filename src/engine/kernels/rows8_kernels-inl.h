// The 8-row tile kernels (engine/quant/rows8.h) of the x86 targets from AVX2 up: one group of 8
// rows against one activation row (DotRows8*, the decode kernels) and against several token rows
// at once (GemmRows8*, prefill and batched decode), where a tile's codes are unpacked into
// registers once and serve every token.
//
// Included by quant_dot_highway.cc once per Highway target, INSIDE namespace sg::HWY_NAMESPACE
// and its x86 target #if, so it has no include guard and no includes of its own.
// Exactness: per token, GemmRows8* performs the one-token kernel's operations in its order (the
// integer sums are exact, the float steps are the same FMAs on the same two accumulators), so
// every token's outputs equal DotRows8*'s bit for bit: a sequence's logits do not depend on what
// else is in its step.

// ---- 8-row tiles (rows8.h): the integer sums come out one row per lane ----------------------

// The activation block's 8-byte chunk j broadcast to the four quarters of a vector.
inline __m256i ActChunk(const ActQ8Block& a, int j) {
  int64_t v;
  std::memcpy(&v, a.qs + 8 * j, 8);
  return _mm256_set1_epi64x(v);
}

// acc + the quad sums of u8 x i8 (exact int32; no int16 step on VNNI).
inline __m256i AddQuads(__m256i acc, __m256i w_unsigned, __m256i a_signed) {
#if HWY_TARGET == HWY_AVX3_DL
  return _mm256_dpbusd_epi32(acc, w_unsigned, a_signed);
#else
  return _mm256_add_epi32(acc, SumQuads(w_unsigned, a_signed));
#endif
}

// A tile's codes as unsigned bytes: q[h][c] = quad h's element chunk c (elements 8c .. 8c+7 of
// its four rows, quarters as rows8.h orders them), ready for u8 x i8 products.
struct Rows8Codes {
  __m256i q[2][4];
};

// Lane r: sum_c sum_i q[h][c] * chunk c of the activation over both quads, row r in lane r.
inline __m256i Rows8CodeSums(const Rows8Codes& w, const ActQ8Block& a) {
  const __m256i chunk[4] = {ActChunk(a, 0), ActChunk(a, 1), ActChunk(a, 2), ActChunk(a, 3)};
  __m256i half[2];
  for (int h = 0; h < 2; ++h) {
#if HWY_TARGET == HWY_AVX3_DL
    __m256i sum = _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) sum = _mm256_dpbusd_epi32(sum, w.q[h][j], chunk[j]);
    half[h] = sum;
#else
    // Four pair sums of at most 2 * 31 * 127 each stay inside int16 (4 * 7874 < 32768).
    const __m256i pairs =
        _mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(w.q[h][0], chunk[0]),
                                          _mm256_maddubs_epi16(w.q[h][2], chunk[2])),
                         _mm256_add_epi16(_mm256_maddubs_epi16(w.q[h][1], chunk[1]),
                                          _mm256_maddubs_epi16(w.q[h][3], chunk[3])));
    // int16 pairs to int32 by madd with ones: one uop where two shifts, a shift and an add were
    // four. On Zen 3 (two vector multiply pipes) kernel_bench Q4_0 2048 x 2048, 512 tokens went
    // 189/197 -> 271/240 GFLOP/s with it; the multiply pipe is not this kernel's limit there.
    half[h] = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
#endif
  }
  return _mm256_hadd_epi32(half[0], half[1]);
}

struct Rows8Q4_0 {
  static constexpr int kGemmTokens = 8;  // tokens per unpacked tile (GemmRows8)
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ4_0));
  using Codes = Rows8Codes;
  static Codes Unpack(const std::byte* tile) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    Codes w;
    for (int h = 0; h < 2; ++h) {
      for (int c = 0; c < 2; ++c) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16 + 64 * h + 32 * c));
        w.q[h][c] = _mm256_and_si256(v, low4);
        w.q[h][c + 2] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
      }
    }
    return w;
  }
  // Lane r: sum_i (q_i - 8) a_i of row r, as sum q_i a_i - 8 * sum a_i.
  static __m256i Sums(const Codes& w, const ActQ8Block& a) {
    return _mm256_sub_epi32(Rows8CodeSums(w, a), _mm256_set1_epi32(8 * a.sum));
  }
  static __m256i Sums(const std::byte* tile, const ActQ8Block& a) { return Sums(Unpack(tile), a); }
};

// In-lane byte shuffles that put byte cb of the fifth bits of the rows of quad h into every byte
// of their quarters (spread[h][cb]), and the bit each byte then tests (bit: 1 << (i % 8)).
struct Q5SpreadMasks {
  alignas(32) int8_t spread[2][4][32];
  alignas(32) uint8_t bit[32];
};

constexpr Q5SpreadMasks MakeQ5SpreadMasks() {
  Q5SpreadMasks m{};
  for (int h = 0; h < 2; ++h) {
    for (int cb = 0; cb < 4; ++cb) {
      for (int i = 0; i < 32; ++i) {
        m.spread[h][cb][i] = static_cast<int8_t>(4 * cb + 2 * h + ((i % 16) >= 8 ? 1 : 0));
      }
    }
  }
  for (int i = 0; i < 32; ++i) m.bit[i] = static_cast<uint8_t>(1u << (i % 8));
  return m;
}

inline constexpr Q5SpreadMasks kQ5SpreadMasks = MakeQ5SpreadMasks();

// Q5_0: the Q4_0 tile plus fifth bits (rows8.h). Codes are taken unsigned, q = nibble | bit << 4
// in [0, 31], and the offset comes out as 16 * sum a.
struct Rows8Q5_0 {
  static constexpr int kGemmTokens = 8;  // tokens per unpacked tile (GemmRows8)
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ5_0));

  // 0x10 in the bytes whose fifth bit is set, for quad h and qh byte cb.
  static __m256i FifthBits(__m256i qh, int h, int cb) {
    const __m256i spread = _mm256_shuffle_epi8(
        qh, _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ5SpreadMasks.spread[h][cb])));
    const __m256i bit = _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ5SpreadMasks.bit));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                            _mm256_set1_epi8(0x10));
  }

  using Codes = Rows8Codes;
  static Codes Unpack(const std::byte* tile) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16));
    const std::byte* codes = tile + kRows8Q5_0HeaderBytes;
    Codes w;  // element chunks 0..3 of each quad's rows, unsigned 5-bit codes
    for (int h = 0; h < 2; ++h) {
      for (int c = 0; c < 2; ++c) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 64 * h + 32 * c));
        w.q[h][c] = _mm256_or_si256(_mm256_and_si256(v, low4), FifthBits(qh, h, c));
        w.q[h][c + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
                                        FifthBits(qh, h, c + 2));
      }
    }
    return w;
  }
  static __m256i Sums(const Codes& w, const ActQ8Block& a) {
    return _mm256_sub_epi32(Rows8CodeSums(w, a), _mm256_set1_epi32(16 * a.sum));
  }
  static __m256i Sums(const std::byte* tile, const ActQ8Block& a) { return Sums(Unpack(tile), a); }
};

struct Rows8Q8_0 {
  static constexpr int kGemmTokens = 4;  // tokens per unpacked tile (GemmRows8)
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ8_0));
  // Lane r: sum_i w_i a_i of row r, as |a_i| * (w_i with a_i's sign); no code is -128
  // (Rows8Eligible), so the sign flip is exact.
  struct Codes {
    __m256i w[2][4];  // signed codes as stored
  };
  static Codes Unpack(const std::byte* tile) {
    Codes c;
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        c.w[h][j] =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16 + 128 * h + 32 * j));
      }
    }
    return c;
  }
  static __m256i Sums(const Codes& codes, const ActQ8Block& a) {
    __m256i chunk[4], magnitude[4];
    for (int j = 0; j < 4; ++j) {
      chunk[j] = ActChunk(a, j);
      magnitude[j] = _mm256_abs_epi8(chunk[j]);
    }
    __m256i half[2];
    for (int h = 0; h < 2; ++h) {
      __m256i sum = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        sum = AddQuads(sum, magnitude[c], _mm256_sign_epi8(codes.w[h][c], chunk[c]));
      }
      half[h] = sum;
    }
    return _mm256_hadd_epi32(half[0], half[1]);
  }
  static __m256i Sums(const std::byte* tile, const ActQ8Block& a) { return Sums(Unpack(tile), a); }
};

// Q4_K tiles (rows8.h): per sub-block j, the 8 rows' code sums land one row per lane (as Q4_0's)
// and are multiplied by the rows' 6-bit scales in int32; the mins meet the activation's
// sub-block sums the same way. The float steps are the one-row K spec's, lane by lane.
struct Rows8Q4K {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ4_K));

  // The tile's scales and mins as bytes [8j + r] (sub-block j, row r).
  static void UnpackScales(const std::byte* tile, uint8_t* sc, uint8_t* m) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(3);
    const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 96));
    for (int half = 0; half < 2; ++half) {  // sub-blocks 0-3, then 4-7
      const __m256i low =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 + 32 * half));
      const __m256i h = _mm256_and_si256(half == 0 ? high : _mm256_srli_epi16(high, 4), low4);
      const __m256i s = _mm256_or_si256(_mm256_and_si256(low, low4),
                                        _mm256_slli_epi16(_mm256_and_si256(h, low2), 4));
      const __m256i n =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), low2), 4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + 32 * half), s);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(m + 32 * half), n);
    }
  }

  // Sum over one sub-block pair (64 elements, run g of code vectors) for the 8 rows: lane r =
  // sum q a of row r's low-nibble sub-block (first) and high-nibble one (second).
  static void PairSums(const std::byte* codes, const int8_t* a, __m256i* lo_sums,
                       __m256i* hi_sums) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i lo[2], hi[2];
    for (int h = 0; h < 2; ++h) {
      __m256i sl = _mm256_setzero_si256(), sh = _mm256_setzero_si256();  // int16 pairs on AVX2
      for (int c = 0; c < 4; ++c) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * (4 * h + c)));
        int64_t al, ah;
        std::memcpy(&al, a + 8 * c, 8);
        std::memcpy(&ah, a + 32 + 8 * c, 8);
        const __m256i ql = _mm256_and_si256(v, low4);
        const __m256i qh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#if HWY_TARGET == HWY_AVX3_DL
        sl = _mm256_dpbusd_epi32(sl, ql, _mm256_set1_epi64x(al));
        sh = _mm256_dpbusd_epi32(sh, qh, _mm256_set1_epi64x(ah));
#else
        // Four pair sums of at most 2 * 15 * 127 each stay inside int16.
        sl = _mm256_add_epi16(sl, _mm256_maddubs_epi16(ql, _mm256_set1_epi64x(al)));
        sh = _mm256_add_epi16(sh, _mm256_maddubs_epi16(qh, _mm256_set1_epi64x(ah)));
#endif
      }
#if HWY_TARGET == HWY_AVX3_DL
      lo[h] = sl;
      hi[h] = sh;
#else
      lo[h] = _mm256_madd_epi16(sl, _mm256_set1_epi16(1));
      hi[h] = _mm256_madd_epi16(sh, _mm256_set1_epi16(1));
#endif
    }
    *lo_sums = _mm256_hadd_epi32(lo[0], lo[1]);
    *hi_sums = _mm256_hadd_epi32(hi[0], hi[1]);
  }

  static __m256i Widen8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
};

// One Q4_K tile (one block column of the 8 rows) into the 8 rows' accumulators.
__m256 StepRows8Q4_K(const std::byte* tile, const BlockQ8_K& a, __m256 acc) {
  alignas(32) uint8_t sc[64], m[64];
  Rows8Q4K::UnpackScales(tile, sc, m);
  __m256i isum = _mm256_setzero_si256(), msum = _mm256_setzero_si256();
  for (int g = 0; g < 4; ++g) {
    __m256i lo, hi;
    Rows8Q4K::PairSums(tile + kRows8Q4KHeaderBytes + 256 * g, a.qs + 64 * g, &lo, &hi);
    isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(lo, Rows8Q4K::Widen8(sc + 8 * (2 * g))));
    isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(hi, Rows8Q4K::Widen8(sc + 8 * (2 * g + 1))));
  }
  for (int j = 0; j < 8; ++j) {
    const __m256i bsum = _mm256_set1_epi32(a.bsums[2 * j] + a.bsums[2 * j + 1]);
    msum = _mm256_add_epi32(msum, _mm256_mullo_epi32(Rows8Q4K::Widen8(m + 8 * j), bsum));
  }
  const __m256 da = _mm256_set1_ps(a.d);
  const __m256 d =
      _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile))), da);
  const __m256 dmin = _mm256_mul_ps(
      _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 16))), da);
  acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), acc);
  return _mm256_fmadd_ps(_mm256_xor_ps(dmin, _mm256_set1_ps(-0.0f)), _mm256_cvtepi32_ps(msum), acc);
}

// In-lane byte shuffles of a tile's sign-extended scale pairs (rows8.h: int32 lane r of pair p
// holds row r's int16 scales of sub-blocks 2p, 2p + 1) that give, for the rows of quad h and
// sub-block 2p + e, row RowOfQuarter(h, q)'s scale in the 4 int16 of quarter q.
struct Q6ScaleMasks {
  alignas(32) int8_t spread[2][2][32];
};

constexpr Q6ScaleMasks MakeQ6ScaleMasks() {
  Q6ScaleMasks m{};
  for (int h = 0; h < 2; ++h) {
    for (int e = 0; e < 2; ++e) {
      for (int i = 0; i < 32; ++i) {
        // Byte i of a 128-bit lane is in quarter j = (i % 16) / 8 of it: row 2h + j of the lane's
        // four, whose scale is int16 2 (2h + j) + e there.
        const int j = (i % 16) / 8;
        m.spread[h][e][i] = static_cast<int8_t>(2 * (2 * (2 * h + j) + e) + i % 2);
      }
    }
  }
  return m;
}

inline constexpr Q6ScaleMasks kQ6ScaleMasks = MakeQ6ScaleMasks();

// Q6_K tiles (rows8.h): codes q in [0, 63] (unsigned) against the activation, pair sums scaled
// per row and sub-block in int16 x int16 -> int32 (madd), so no per-sub-block horizontal add; the
// -32 offset comes out as 32 * sum_k sc_k * bsum_k. Same integer sums as the one-row spec.
struct Rows8Q6K {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ6_K));

  static __m256i Load(const std::byte* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }

  // The quad h's codes of elements 128n + 32t + 8c + i (i < 8), t = 0..3, as unsigned bytes.
  static void Codes(const std::byte* codes, int n, int h, int c, __m256i* q) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30);
    const int64_t at = 32 * (4 * h + c);  // vector of the quad and chunk inside a run of 8
    const __m256i ql0 = Load(codes + 256 * (2 * n) + at);
    const __m256i ql1 = Load(codes + 256 * (2 * n + 1) + at);
    const __m256i qh = Load(codes + 256 * (4 + n) + at);
    // 16-bit shifts: the masks keep only bits that stayed inside their byte.
    q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                           _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
    q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                           _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                           _mm256_and_si256(qh, bits45));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                           _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
  }

  // Quad h's share of half n: int32 lanes 2q, 2q + 1 sum sc * q * a of row RowOfQuarter(h, q).
  // scales[t] = the sign-extended pair 4n + t (sub-blocks 8n + 2t + e, e = 0, 1).
  static __m256i QuadHalf(const std::byte* codes, const int8_t* a, int n, int h,
                          const __m256i* scales) {
    __m256i sum = _mm256_setzero_si256();
    for (int e = 0; e < 2; ++e) {  // sub-blocks 8n + 2t + e: chunks c = 2e, 2e + 1
      __m256i q0[4], q1[4];
      Codes(codes, n, h, 2 * e, q0);
      Codes(codes, n, h, 2 * e + 1, q1);
      const __m256i mask =
          _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ6ScaleMasks.spread[h][e]));
      for (int t = 0; t < 4; ++t) {
        const int8_t* at = a + 128 * n + 32 * t + 16 * e;
        int64_t a0, a1;
        std::memcpy(&a0, at, 8);
        std::memcpy(&a1, at + 8, 8);
        // Two pair sums of at most 2 * 63 * 128 each stay inside int16 (32256 < 32768).
        const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(q0[t], _mm256_set1_epi64x(a0)),
                                               _mm256_maddubs_epi16(q1[t], _mm256_set1_epi64x(a1)));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_shuffle_epi8(scales[t], mask)));
      }
    }
    return sum;
  }

  // Lane r: row r's isum of the one-row spec, sum_k sc_k * sum_{i in k} (q_i - 32) a_i.
  static __m256i Sums(const std::byte* tile, const BlockQ8_K& a) {
    const std::byte* codes = tile + kRows8Q6KHeaderBytes;
    __m256i quad[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    __m256i offset = _mm256_setzero_si256();  // lane r: sum_k sc_k * bsum_k of row r
    for (int n = 0; n < 2; ++n) {
      __m256i scales[4];
      for (int t = 0; t < 4; ++t) {
        const int p = 4 * n + t;
        scales[t] = _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 2 * kRows8 + 16 * p)));
        int32_t bsums;  // bsum 2p in the low int16, 2p + 1 in the high one
        std::memcpy(&bsums, a.bsums + 2 * p, 4);
        offset = _mm256_add_epi32(offset, _mm256_madd_epi16(scales[t], _mm256_set1_epi32(bsums)));
      }
      for (int h = 0; h < 2; ++h) {
        quad[h] = _mm256_add_epi32(quad[h], QuadHalf(codes, a.qs, n, h, scales));
      }
    }
    return _mm256_sub_epi32(_mm256_hadd_epi32(quad[0], quad[1]), _mm256_slli_epi32(offset, 5));
  }
};

// One Q6_K tile into the 8 rows' accumulators.
__m256 StepRows8Q6_K(const std::byte* tile, const BlockQ8_K& a, __m256 acc) {
  const __m256 isum = _mm256_cvtepi32_ps(Rows8Q6K::Sums(tile, a));
  const __m256 d =
      _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile))),
                    _mm256_set1_ps(a.d));
  return _mm256_fmadd_ps(d, isum, acc);
}

// K-format 8-row groups: the next tile prefetched whole, one Step per block column, in order.
template <int64_t kTileBytes, __m256 (*Step)(const std::byte*, const BlockQ8_K&, __m256)>
void DotRows8K(const void* group, const void* act, int64_t n, float* out) {
  const std::byte* tiles = static_cast<const std::byte*>(group);
  const BlockQ8_K* ab = static_cast<const BlockQ8_K*>(act);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const std::byte* tile = tiles + b * kTileBytes;
    for (int64_t at = 0; at < kTileBytes; at += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(tile) + kTileBytes + at, _MM_HINT_T0);
    }
    acc = Step(tile, ab[b], acc);
  }
  _mm256_storeu_ps(out, acc);
}

// How far ahead of the tile being read the 8-row kernels prefetch (bytes).
constexpr int64_t kRows8PrefetchBytes = 1024;

template <class Op>
void DotRows8(const void* group, const void* act, int64_t n, float* out) {
  const std::byte* tiles = static_cast<const std::byte*>(group);
  const ActQ8Block* ab = static_cast<const ActQ8Block*>(act);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  auto step = [&](int64_t b, __m256& acc) {
    const std::byte* tile = tiles + b * Op::kTileBytes;
    const __m256 sums = _mm256_cvtepi32_ps(Op::Sums(tile, ab[b]));
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile)));
    acc = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(ab[b].d)), sums, acc);
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const char* ahead =
        reinterpret_cast<const char*>(tiles + b * Op::kTileBytes) + kRows8PrefetchBytes;
    for (int64_t at = 0; at < 2 * Op::kTileBytes; at += 64) _mm_prefetch(ahead + at, _MM_HINT_T0);
    step(b, acc0);
    step(b + 1, acc1);
  }
  if (b < nb) step(b, acc0);
  _mm256_storeu_ps(out, _mm256_add_ps(acc0, acc1));
}

// ---- several tokens per group: the tile's codes unpacked once ----------------------------------

// Most tokens whose activation rows share one unpacked tile; each Op says how many it takes
// (Op::kGemmTokens): 8 for Q4_0/Q5_0, whose per-token work is small enough that unpacking once
// per 8 tokens instead of 4 pays (kernel_bench q4_0 2048 x 2048, 512 tokens, 2 threads, Zen 3:
// 279/217 -> 301/306 GFLOP/s; q5_0 143/196 -> 182/224), 4 for Q8_0, which measured slower with 8
// (196/157 -> 154/142: its sign flips need more registers per token).
constexpr int kGemmTokens = 8;

// DotRows8<Op> for kT tokens: act[t] is token t's activation row, out[t] its 8 outputs.
template <class Op, int kT>
void GemmRows8Tokens(const std::byte* tiles, const ActQ8Block* const* act, int64_t nb,
                     float* const* out) {
  __m256 acc[kT][2];
  for (int t = 0; t < kT; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const std::byte* tile = tiles + b * Op::kTileBytes;
    if ((b & 1) == 0) {
      const char* ahead = reinterpret_cast<const char*>(tile) + kRows8PrefetchBytes;
      for (int64_t at = 0; at < 2 * Op::kTileBytes; at += 64) _mm_prefetch(ahead + at, _MM_HINT_T0);
    }
    const typename Op::Codes w = Op::Unpack(tile);
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile)));
    for (int t = 0; t < kT; ++t) {
      const ActQ8Block& a = act[t][b];
      const __m256 sums = _mm256_cvtepi32_ps(Op::Sums(w, a));
      acc[t][b & 1] = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(a.d)), sums, acc[t][b & 1]);
    }
  }
  for (int t = 0; t < kT; ++t) _mm256_storeu_ps(out[t], _mm256_add_ps(acc[t][0], acc[t][1]));
}

using GemmRows8TokensFn = void (*)(const std::byte*, const ActQ8Block* const*, int64_t,
                                   float* const*);
template <class Op, size_t... kCounts>
constexpr std::array<GemmRows8TokensFn, sizeof...(kCounts)> GemmRows8Table(
    std::index_sequence<kCounts...>) {
  return {&GemmRows8Tokens<Op, static_cast<int>(kCounts) + 1>...};
}
// GemmRows8Tokens<Op, c> at index c - 1, for c = 1 .. Op::kGemmTokens.
template <class Op>
inline constexpr std::array<GemmRows8TokensFn, Op::kGemmTokens> kGemmRows8ByCount =
    GemmRows8Table<Op>(std::make_index_sequence<Op::kGemmTokens>());

// out[t * out_stride + r] = DotRows8<Op>(group, token t's row, n)[r] for every token.
template <class Op>
void GemmRows8(const void* group, const void* act, int64_t act_stride, int64_t num_tokens,
               int64_t n, float* out, int64_t out_stride) {
  const std::byte* tiles = static_cast<const std::byte*>(group);
  const std::byte* rows = static_cast<const std::byte*>(act);
  const int64_t nb = n / kQK;
  const ActQ8Block* a[kGemmTokens];
  float* o[kGemmTokens];
  static_assert(Op::kGemmTokens >= 1 && Op::kGemmTokens <= kGemmTokens);
  for (int64_t t = 0; t < num_tokens; t += Op::kGemmTokens) {
    const int64_t count = std::min<int64_t>(Op::kGemmTokens, num_tokens - t);
    for (int64_t j = 0; j < count; ++j) {
      a[j] = reinterpret_cast<const ActQ8Block*>(rows + (t + j) * act_stride);
      o[j] = out + (t + j) * out_stride;
    }
    kGemmRows8ByCount<Op>[count - 1](tiles, a, nb, o);
  }
}

// Q4_K, several tokens: per tile, the codes are split into nibbles once (64 vectors on the stack)
// and each sub-block's 6-bit scales are spread over the int16 lanes of its rows, so a token's
// pair sums are scaled by one madd (int16 x int16 -> int32) instead of madd by ones and an int32
// multiply; the mins meet the activation's sub-block sums the same way, two sub-blocks per madd.
// The integer sums equal StepRows8Q4_K's exactly and the float steps are its own, in its order.
struct Rows8Q4KTile {
  __m256i ql[4][2][4], qh[4][2][4];  // [pair g][quad h][chunk c]: low / high nibble codes
  __m256i scale[8][2];               // [sub-block j][quad h]: int16 lane i = sc of its row
  __m256i mins[4];                   // [pair p]: int16 lanes 2r, 2r + 1 = m of sub-blocks 2p, 2p+1
  __m256 d, dmin;                    // the rows' fp16 d and dmin, widened

  void Load(const std::byte* tile) {
    alignas(32) uint8_t sc[64], m[64];
    Rows8Q4K::UnpackScales(tile, sc, m);
    alignas(32) int16_t lanes[16];
    for (int j = 0; j < 8; ++j) {
      for (int h = 0; h < 2; ++h) {
        for (int i = 0; i < 16; ++i) lanes[i] = sc[8 * j + Rows8RowOfQuarter(h, i / 4)];
        scale[j][h] = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
      }
    }
    for (int p = 0; p < 4; ++p) {
      for (int r = 0; r < 8; ++r) {
        lanes[2 * r] = m[8 * (2 * p) + r];
        lanes[2 * r + 1] = m[8 * (2 * p + 1) + r];
      }
      mins[p] = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
    }
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const std::byte* codes = tile + kRows8Q4KHeaderBytes;
    for (int g = 0; g < 4; ++g) {
      for (int h = 0; h < 2; ++h) {
        for (int c = 0; c < 4; ++c) {
          const __m256i v = _mm256_loadu_si256(
              reinterpret_cast<const __m256i*>(codes + 256 * g + 32 * (4 * h + c)));
          ql[g][h][c] = _mm256_and_si256(v, low4);
          qh[g][h][c] = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
        }
      }
    }
    d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile)));
    dmin = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 16)));
  }

  // StepRows8Q4_K(tile, a, acc) for this tile.
  __m256 Step(const BlockQ8_K& a, __m256 acc) const {
    __m256i isum[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int g = 0; g < 4; ++g) {
      const int8_t* ag = a.qs + 64 * g;
      for (int h = 0; h < 2; ++h) {
        __m256i sl = _mm256_setzero_si256(), sh = _mm256_setzero_si256();
        for (int c = 0; c < 4; ++c) {
          int64_t al, ah;
          std::memcpy(&al, ag + 8 * c, 8);
          std::memcpy(&ah, ag + 32 + 8 * c, 8);
#if HWY_TARGET == HWY_AVX3_DL
          sl = _mm256_dpbusd_epi32(sl, ql[g][h][c], _mm256_set1_epi64x(al));
          sh = _mm256_dpbusd_epi32(sh, qh[g][h][c], _mm256_set1_epi64x(ah));
#else
          sl = _mm256_add_epi16(sl, _mm256_maddubs_epi16(ql[g][h][c], _mm256_set1_epi64x(al)));
          sh = _mm256_add_epi16(sh, _mm256_maddubs_epi16(qh[g][h][c], _mm256_set1_epi64x(ah)));
#endif
        }
#if HWY_TARGET == HWY_AVX3_DL
        // int32 quads: scale them by the row's scale (lanes 2i, 2i + 1 of the int16 view agree).
        isum[h] = _mm256_add_epi32(isum[h],
                                   _mm256_mullo_epi32(sl, _mm256_srli_epi32(scale[2 * g][h], 16)));
        isum[h] = _mm256_add_epi32(
            isum[h], _mm256_mullo_epi32(sh, _mm256_srli_epi32(scale[2 * g + 1][h], 16)));
#else
        // Four pair sums of at most 2 * 15 * 127 each stay inside int16; times a 6-bit scale
        // they are summed in int32 by madd.
        isum[h] = _mm256_add_epi32(isum[h], _mm256_madd_epi16(sl, scale[2 * g][h]));
        isum[h] = _mm256_add_epi32(isum[h], _mm256_madd_epi16(sh, scale[2 * g + 1][h]));
#endif
      }
    }
    __m256i msum = _mm256_setzero_si256();
    for (int p = 0; p < 4; ++p) {
      // Sub-block sums of 32 codes: |B| <= 4096, so the pair fits two int16 lanes.
      const int32_t b0 = a.bsums[4 * p] + a.bsums[4 * p + 1];
      const int32_t b1 = a.bsums[4 * p + 2] + a.bsums[4 * p + 3];
      const int32_t pair = static_cast<int32_t>((static_cast<uint32_t>(b1) << 16) |
                                                (static_cast<uint32_t>(b0) & 0xffffu));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mins[p], _mm256_set1_epi32(pair)));
    }
    const __m256 da = _mm256_set1_ps(a.d);
    acc = _mm256_fmadd_ps(_mm256_mul_ps(d, da),
                          _mm256_cvtepi32_ps(_mm256_hadd_epi32(isum[0], isum[1])), acc);
    return _mm256_fmadd_ps(_mm256_xor_ps(_mm256_mul_ps(dmin, da), _mm256_set1_ps(-0.0f)),
                           _mm256_cvtepi32_ps(msum), acc);
  }
};

// Q6_K, several tokens: per tile, the 6-bit codes are assembled once (64 vectors on the stack) and
// the sub-block scales spread over their rows' int16 lanes once; per token only the products,
// the madd by the scales and the -32 offset term remain. Integer sums equal Rows8Q6K::Sums and
// the float step is StepRows8Q6_K's.
struct Rows8Q6KTile {
  __m256i q[2][2][4][4];       // [half n][quad h][chunk c][t]: Rows8Q6K::Codes
  __m256i scaled[2][2][2][4];  // [n][h][e][t]: scales of pair 4n + t spread for quad h, e
  __m256i scales[2][4];        // [n][t]: the sign-extended pair 4n + t (for the offset)
  __m256 d;

  void Load(const std::byte* tile) {
    const std::byte* codes = tile + kRows8Q6KHeaderBytes;
    for (int n = 0; n < 2; ++n) {
      for (int t = 0; t < 4; ++t) {
        scales[n][t] = _mm256_cvtepi8_epi16(_mm_loadu_si128(
            reinterpret_cast<const __m128i*>(tile + 2 * kRows8 + 16 * (4 * n + t))));
      }
      for (int h = 0; h < 2; ++h) {
        for (int c = 0; c < 4; ++c) Rows8Q6K::Codes(codes, n, h, c, q[n][h][c]);
        for (int e = 0; e < 2; ++e) {
          const __m256i mask =
              _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ6ScaleMasks.spread[h][e]));
          for (int t = 0; t < 4; ++t) scaled[n][h][e][t] = _mm256_shuffle_epi8(scales[n][t], mask);
        }
      }
    }
    d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile)));
  }

  __m256 Step(const BlockQ8_K& a, __m256 acc) const {
    __m256i quad[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    __m256i offset = _mm256_setzero_si256();
    for (int n = 0; n < 2; ++n) {
      for (int t = 0; t < 4; ++t) {
        int32_t bsums;  // bsum 2p in the low int16, 2p + 1 in the high one
        std::memcpy(&bsums, a.bsums + 2 * (4 * n + t), 4);
        offset =
            _mm256_add_epi32(offset, _mm256_madd_epi16(scales[n][t], _mm256_set1_epi32(bsums)));
      }
      for (int h = 0; h < 2; ++h) {
        for (int e = 0; e < 2; ++e) {
          for (int t = 0; t < 4; ++t) {
            const int8_t* at = a.qs + 128 * n + 32 * t + 16 * e;
            int64_t a0, a1;
            std::memcpy(&a0, at, 8);
            std::memcpy(&a1, at + 8, 8);
            // Two pair sums of at most 2 * 63 * 128 each stay inside int16.
            const __m256i pairs = _mm256_add_epi16(
                _mm256_maddubs_epi16(q[n][h][2 * e][t], _mm256_set1_epi64x(a0)),
                _mm256_maddubs_epi16(q[n][h][2 * e + 1][t], _mm256_set1_epi64x(a1)));
            quad[h] = _mm256_add_epi32(quad[h], _mm256_madd_epi16(pairs, scaled[n][h][e][t]));
          }
        }
      }
    }
    const __m256i isum =
        _mm256_sub_epi32(_mm256_hadd_epi32(quad[0], quad[1]), _mm256_slli_epi32(offset, 5));
    return _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(a.d)), _mm256_cvtepi32_ps(isum), acc);
  }
};

// The K-format tiles above against several tokens: each tile loaded once per pass of up to 16
// tokens, whose accumulators live across the pass.
template <class Tile, int64_t kTileBytes>
void GemmRows8KTiles(const void* group, const void* act, int64_t act_stride, int64_t num_tokens,
                     int64_t n, float* out, int64_t out_stride) {
  const std::byte* tiles = static_cast<const std::byte*>(group);
  const std::byte* rows = static_cast<const std::byte*>(act);
  Tile tile;
  constexpr int64_t kTokensPerPass = 16;
  __m256 acc[kTokensPerPass];
  for (int64_t t0 = 0; t0 < num_tokens; t0 += kTokensPerPass) {
    const int64_t count = std::min(kTokensPerPass, num_tokens - t0);
    for (int64_t t = 0; t < count; ++t) acc[t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < n / kQKK; ++b) {
      const std::byte* at = tiles + b * kTileBytes;
      for (int64_t off = 0; off < kTileBytes; off += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(at) + kTileBytes + off, _MM_HINT_T0);
      }
      tile.Load(at);
      for (int64_t t = 0; t < count; ++t) {
        const auto* a = reinterpret_cast<const BlockQ8_K*>(rows + (t0 + t) * act_stride);
        acc[t] = tile.Step(a[b], acc[t]);
      }
    }
    for (int64_t t = 0; t < count; ++t) _mm256_storeu_ps(out + (t0 + t) * out_stride, acc[t]);
  }
}
