// The AMX strip kernels (quant_dot.h, QuantGemm16Fn) of the 32-element 8-row formats (Q4_0, Q5_0,
// Q8_0): two kRows8 groups, 16 weight rows, against any number of tokens through the tile unit.
//
// Included by quant_dot_highway.cc once, INSIDE namespace sg::HWY_NAMESPACE for the AVX3_DL target
// (AVX-512 with VNNI; the tile instructions are written as inline assembly, which needs no
// compiler target; amx_tile.h), after rows8_kernels-inl.h, whose Unpack functions it reuses.
//
// Exactness: per 32-element block, one TDPBSSD gives every (token, row) integer sum of the block
// exactly (signed codes times signed activation codes, summed in int32 without saturation), so
// the float steps, the 8-row spec's (s = float(d_w) * d_a; acc[b & 1] = fmaf(s, float(isum),
// acc[b & 1]); out = acc[0] + acc[1]), give the group kernels' results bit for bit: a token's
// outputs do not depend on the path or on the other tokens of its step.
//
// Work per call: the tokens come packed by PackTiles16 (once per matmul: per 16-token tile and
// block, 16 rows of 32 code bytes, and the 16 scales). Each strip's codes are rearranged into the
// tile unit's B layout (for block b, 8 rows of 64 bytes: row i holds the 4 codes 4i .. 4i+3 of
// each of the 16 weight rows) with their 16 scales widened, once per pass of up to 16 token
// tiles; then per token tile and per block parity (the spec keeps two accumulators, even and odd
// blocks), one tile product per block and the float steps in 16-lane AVX-512 registers, one
// register per token.
//
// Tile registers (fixed: each tile instruction names its registers in the opcode):
//   tmm0, tmm1  C: 16 tokens x 16 int32 sums (alternating within a chunk of products)
//   tmm2, tmm3  A: a token tile's codes of a block (16 x 32 bytes)
//   tmm4, tmm5  B: the strip's codes of a block (8 x 64 bytes)
// Thread rules: any thread; the tile configuration is loaded and released inside each call, and
// the scratch is per thread.

// Loads the configuration of the registers above: C tiles of 16 x 64 bytes, A tiles of 16 rows of
// a_bytes, B tiles of b_rows rows of 64 bytes (b_rows = a_bytes / 4: one row per four codes).
inline void AmxConfigure(int a_bytes, int b_rows) {
  AmxTileConfig cfg;
  for (int i = 0; i < 2; ++i) {
    cfg.rows[i] = 16;
    cfg.colsb[i] = 64;
    cfg.rows[2 + i] = 16;
    cfg.colsb[2 + i] = static_cast<uint16_t>(a_bytes);
    cfg.rows[4 + i] = static_cast<uint8_t>(b_rows);
    cfg.colsb[4 + i] = 64;
  }
  AmxLoadConfig(cfg);
}

// vpermt2d indices that gather B row 2c + e from two groups' code vectors of chunk c: the first
// source holds group 0's quads h = 0, 1 (256 bits each), the second group 1's. Weight row n
// (0..15) of group n / 8 is row m = n % 8 of that group, in quad h = (m >> 1) & 1 at quarter
// k = (m & 1) + 2 (m >> 2) (rows8.h, Rows8RowOfQuarter), whose dword e is its codes 8c+4e..+3.
struct AmxPermute {
  alignas(64) int32_t idx[2][16];
};

constexpr AmxPermute MakeAmxPermute() {
  AmxPermute p{};
  for (int e = 0; e < 2; ++e) {
    for (int n = 0; n < 16; ++n) {
      const int m = n % 8;
      const int dword = 8 * ((m >> 1) & 1) + 2 * ((m & 1) + 2 * (m >> 2)) + e;
      p.idx[e][n] = (n < 8 ? 0 : 16) + dword;
    }
  }
  return p;
}

inline constexpr AmxPermute kAmxPermute = MakeAmxPermute();

// A tile's codes as signed bytes, [quad h][chunk c] as Rows8Codes orders them.
template <class Op>
void AmxSignedCodes(const std::byte* tile, __m256i (&q)[2][4]);

template <>
inline void AmxSignedCodes<Rows8Q4_0>(const std::byte* tile, __m256i (&q)[2][4]) {
  const Rows8Codes w = Rows8Q4_0::Unpack(tile);
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 4; ++c) q[h][c] = _mm256_sub_epi8(w.q[h][c], _mm256_set1_epi8(8));
  }
}

template <>
inline void AmxSignedCodes<Rows8Q5_0>(const std::byte* tile, __m256i (&q)[2][4]) {
  const Rows8Codes w = Rows8Q5_0::Unpack(tile);
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 4; ++c) q[h][c] = _mm256_sub_epi8(w.q[h][c], _mm256_set1_epi8(16));
  }
}

template <>
inline void AmxSignedCodes<Rows8Q8_0>(const std::byte* tile, __m256i (&q)[2][4]) {
  const Rows8Q8_0::Codes w = Rows8Q8_0::Unpack(tile);
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 4; ++c) q[h][c] = w.w[h][c];
  }
}

// C tiles per chunk of products at most (Q4_K, Q6_K: 8 sub-blocks; the 32-element formats: 1).
constexpr int kAmxChunkTiles = 8;

// Per-thread scratch of the strip kernels, grown on demand and kept for the next call. One
// 64-byte-aligned allocation (std::vector of vector types does not promise their alignment here).
struct AmxScratch {
  // The strip in the tile unit's layout: B tiles (8 vectors each), then per-format float
  // vectors (the 32-element formats: one per block, the 16 rows' scales; Q4_K: amx_gemm_k-inl.h).
  __m512i* b = nullptr;
  __m512* f = nullptr;
  int64_t b_vectors = 0, f_vectors = 0;
  void* memory = nullptr;
  // Two chunks of stored C tiles (up to 8 per chunk), 9 KiB apart rather than a multiple of 4 KiB:
  // a load whose address matches an older store's in the low 12 bits waits for it (4K aliasing),
  // and the float steps read one chunk while the tile unit stores the other.
  alignas(64) int32_t c[2][kAmxChunkTiles + 1][16][16] = {};
  // The strip after the one being computed (its first group; the second follows group_bytes
  // later), or null: the token tile loops prefetch it into L2 block by block (AmxPrefetchNext).
  const std::byte* next_strip = nullptr;
  int64_t group_bytes = 0;

  AmxScratch() = default;
  AmxScratch(const AmxScratch&) = delete;
  AmxScratch& operator=(const AmxScratch&) = delete;
  ~AmxScratch() { std::free(memory); }

  void Reserve(int64_t need_b, int64_t need_f) {
    if (need_b <= b_vectors && need_f <= f_vectors) return;
    std::free(memory);
    b_vectors = std::max(b_vectors, need_b);
    f_vectors = std::max(f_vectors, need_f);
    memory = std::aligned_alloc(64, static_cast<size_t>(b_vectors + f_vectors) * 64);
    if (memory == nullptr) throw std::bad_alloc();
    b = static_cast<__m512i*>(memory);
    f = reinterpret_cast<__m512*>(b + b_vectors);
  }
};

// Prefetches bytes [offset, offset + bytes) of both groups of the next strip into L2. The token
// tile loops call it once per block (super-block, half) with that block's share, so the next
// strip's reads are spread over this strip's products instead of arriving in one burst when its
// PackStrip starts: batched decode (one token tile per strip) otherwise waits on each strip's
// loads. Measured, streamgen bench --parallel 16 -p 128 -n 128, 2 threads (Intel Xeon, AMX):
// smollm Q8_0 x16 with the KV prefetch of attention.cc 1164 / 1113 t/s against 1075 / 1049
// without this one (T0 instead of T1: 1033 / 1067; two strips ahead: 1051 / 1086).
inline void AmxPrefetchNext(const AmxScratch& s, int64_t offset, int64_t bytes) {
  if (s.next_strip == nullptr) return;
  PrefetchRange<PrefetchTo::kL2>(s.next_strip + offset, bytes);
  PrefetchRange<PrefetchTo::kL2>(s.next_strip + s.group_bytes + offset, bytes);
}

inline AmxScratch& ThreadAmxScratch() {
  static thread_local AmxScratch scratch;
  return scratch;
}

// Both groups' codes of every block into B tiles, and their scales into s.f.
template <class Op>
void AmxPackStrip(const std::byte* g0, const std::byte* g1, int64_t nb, AmxScratch& s) {
  const __m512i idx0 = _mm512_load_si512(kAmxPermute.idx[0]);
  const __m512i idx1 = _mm512_load_si512(kAmxPermute.idx[1]);
  for (int64_t b = 0; b < nb; ++b) {
    const std::byte* t0 = g0 + b * Op::kTileBytes;
    const std::byte* t1 = g1 + b * Op::kTileBytes;
    __m256i q0[2][4], q1[2][4];
    AmxSignedCodes<Op>(t0, q0);
    AmxSignedCodes<Op>(t1, q1);
    __m512i* dst = s.b + 8 * b;
    for (int c = 0; c < 4; ++c) {
      const __m512i z0 = _mm512_inserti64x4(_mm512_castsi256_si512(q0[0][c]), q0[1][c], 1);
      const __m512i z1 = _mm512_inserti64x4(_mm512_castsi256_si512(q1[0][c]), q1[1][c], 1);
      dst[2 * c] = _mm512_permutex2var_epi32(z0, idx0, z1);
      dst[2 * c + 1] = _mm512_permutex2var_epi32(z0, idx1, z1);
    }
    const __m128i d0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t0));
    const __m128i d1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t1));
    s.f[b] = _mm512_cvtph_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(d0), d1, 1));
  }
}

// PackTiles16Fn (quant_dot.h): tile i holds nb A tiles (512 bytes each), then nb vectors of the
// 16 tokens' scales.
void PackTiles16(const void* act, int64_t act_stride, int64_t num_tokens, int64_t n,
                 int64_t first_tile, int64_t end_tile, void* tiles) {
  const int64_t nb = n / kQK;
  const std::byte* rows = static_cast<const std::byte*>(act);
  for (int64_t tile = first_tile; tile < end_tile; ++tile) {
    auto* codes = reinterpret_cast<__m256i*>(static_cast<std::byte*>(tiles) +
                                             Tiles16Bytes(DType::kQ8_0, 16 * tile, n));
    auto* scales = reinterpret_cast<float*>(codes + 16 * nb);
    const int64_t m = std::min<int64_t>(16, num_tokens - 16 * tile);
    for (int64_t t = 0; t < 16; ++t) {
      if (t < m) {
        const auto* blocks =
            reinterpret_cast<const ActQ8Block*>(rows + (16 * tile + t) * act_stride);
        for (int64_t b = 0; b < nb; ++b) {
          _mm256_store_si256(codes + 16 * b + t,
                             _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blocks[b].qs)));
          scales[16 * b + t] = blocks[b].d;
        }
      } else {
        for (int64_t b = 0; b < nb; ++b) {
          _mm256_store_si256(codes + 16 * b + t, _mm256_setzero_si256());
          scales[16 * b + t] = 0.0f;
        }
      }
    }
  }
}

// The tile product of block b: C tile kC = the token tile's codes (A tile kA, 16 rows of 32
// bytes) times the strip's (B tile kB).
template <int kC, int kA, int kB>
HWY_INLINE void AmxProduct(const __m512i* a_tiles, const __m512i* b_tiles, int64_t b) {
  AmxTileLoad<kA>(a_tiles + 8 * b, kQK);
  AmxTileLoad<kB>(b_tiles + 8 * b, 64);
  AmxTileZero<kC>();
  AmxDpbssd<kC, kA, kB>();
}

// The float steps of block b for the first kM tokens, from its stored C tile (rows past the
// tile's tokens compute on zero scales and are never stored).
template <int kM>
HWY_INLINE void AmxFloatSteps(const int32_t (&c)[16][16], __m512 dw, const float* da,
                              __m512 (&acc)[16]) {
#pragma GCC unroll 16
  for (int t = 0; t < kM; ++t) {
    const __m512 isum = _mm512_cvtepi32_ps(_mm512_load_si512(c[t]));
    acc[t] = _mm512_fmadd_ps(_mm512_mul_ps(dw, _mm512_set1_ps(da[t])), isum, acc[t]);
  }
}

// The blocks of one parity (first, first + 2, ...) of a token tile into out[0, kM), software
// pipelined: block k + 1's tile product (C tile stored to the scratch) is issued before block k's
// float steps, so the tile unit and the vector units overlap and a stored C tile is read one
// block of float steps after its product was issued. The accumulators are locals (not captured
// by a lambda or passed by reference), so they stay in registers across the tile assembly's
// memory clobbers. Measured with kernel_bench q4_0 2048 x 2048, 512 tokens, one thread (Intel
// Xeon, AMX), issuing chunks of 1, 2, 4 and 8 blocks ahead: ~690, ~665, ~580, ~590 GFLOP/s;
// storing each C tile after the previous block's float steps instead gave 395. The K formats
// pipeline the same way by (half) super-blocks (amx_gemm_k-inl.h).
template <int kM, int64_t kTileBytes>
void AmxParityPass(const __m512i* a_tiles, const __m512* da_tiles, int64_t first, int64_t nb,
                   AmxScratch& s, __m512 (&out)[16]) {
  __m512 acc[16];
#pragma GCC unroll 16
  for (int t = 0; t < 16; ++t) acc[t] = _mm512_setzero_ps();
  const __m512i* b_tiles = s.b;
  const __m512* dw = s.f;
  const int64_t count = (nb - first + 1) / 2;  // blocks first + 2k, k < count
  if (count > 0) {
    AmxProduct<0, 2, 4>(a_tiles, b_tiles, first);
    AmxTileStore<0>(s.c[0][0], 64);
  }
  for (int64_t k = 0; k < count; ++k) {
    if (k + 1 < count) {
      AmxProduct<0, 2, 4>(a_tiles, b_tiles, first + 2 * (k + 1));
      AmxTileStore<0>(s.c[(k + 1) & 1][0], 64);
    }
    const int64_t b = first + 2 * k;
    AmxPrefetchNext(s, b * kTileBytes, kTileBytes);
    AmxFloatSteps<kM>(s.c[k & 1][0], dw[b], reinterpret_cast<const float*>(da_tiles + b), acc);
  }
#pragma GCC unroll 16
  for (int t = 0; t < kM; ++t) out[t] = acc[t];
}

// The 32-element formats for GemmRows16Amx: a strip is 8 B-tile rows and a scale vector per block;
// a token tile's outputs are the two parity passes added (the spec's acc[0] + acc[1]).
template <class Op>
struct AmxLegacy {
  static constexpr DType kAct = DType::kQ8_0;
  static int64_t BVectors(int64_t n) { return 8 * (n / kQK); }
  static int64_t FVectors(int64_t n) { return n / kQK; }
  static void Configure() { AmxConfigure(kQK, kQK / 4); }
  static void PackStrip(const std::byte* g0, const std::byte* g1, int64_t n, AmxScratch& s) {
    AmxPackStrip<Op>(g0, g1, n / kQK, s);
  }
  template <int kM>
  static void TokenTile(const std::byte* tile, int64_t n, AmxScratch& s, __m512 (&acc)[16]) {
    const int64_t nb = n / kQK;
    const auto* a_tiles = reinterpret_cast<const __m512i*>(tile);
    const auto* da_tiles = reinterpret_cast<const __m512*>(a_tiles + 8 * nb);
    __m512 odd[16];
    AmxParityPass<kM, Op::kTileBytes>(a_tiles, da_tiles, 0, nb, s, acc);
    AmxParityPass<kM, Op::kTileBytes>(a_tiles, da_tiles, 1, nb, s, odd);
    for (int t = 0; t < kM; ++t) acc[t] = _mm512_add_ps(acc[t], odd[t]);
  }
};

// Token tiles per pass of the strips: their A tiles (n bytes per token) stay within 512 KiB of L2
// while the strips pass over them; between 1 and 16 tiles (16 to 256 tokens).
inline int64_t AmxTilesPerPass(int64_t n) {
  return std::clamp<int64_t>((512 << 10) / (16 * std::max<int64_t>(n, 1)), 1, 16);
}

// QuantGemm16Fn for a format F (AmxLegacy<Op>, AmxQ4K, AmxQ6K): per pass of token tiles, each
// strip is packed once (F::PackStrip) and every tile of the pass computes its 16 x 16 outputs
// (F::TokenTile with kM the tile's tokens rounded up to 4, 8 or 16), stored for its m tokens.
template <class F>
void GemmRows16Amx(const void* strips, int64_t group_bytes, int64_t num_strips, const void* tiles,
                   int64_t num_tokens, int64_t n, float* out, int64_t out_stride, bool accumulate) {
  const int64_t num_tiles = (num_tokens + 15) / 16;
  const int64_t per_pass = AmxTilesPerPass(n);
  AmxScratch& s = ThreadAmxScratch();
  s.Reserve(F::BVectors(n), F::FVectors(n));
  s.group_bytes = group_bytes;
  const std::byte* w = static_cast<const std::byte*>(strips);
  const std::byte* packed = static_cast<const std::byte*>(tiles);
  // The tiles always hold 16 rows (zeros past the last token), so one configuration serves all.
  F::Configure();
  for (int64_t first = 0; first < num_tiles; first += per_pass) {
    const int64_t end = std::min(num_tiles, first + per_pass);
    for (int64_t j = 0; j < num_strips; ++j) {
      const std::byte* g0 = w + 2 * j * group_bytes;
      F::PackStrip(g0, g0 + group_bytes, n, s);
      // A pass of one token tile (batched decode) prefetches the next strip while it computes.
      s.next_strip = end - first == 1 && j + 1 < num_strips ? g0 + 2 * group_bytes : nullptr;
      for (int64_t tile = first; tile < end; ++tile) {
        const int64_t m = std::min<int64_t>(16, num_tokens - 16 * tile);
        const std::byte* a = packed + Tiles16Bytes(F::kAct, 16 * tile, n);
        __m512 acc[16];
        if (m <= 4) {
          F::template TokenTile<4>(a, n, s, acc);
        } else if (m <= 8) {
          F::template TokenTile<8>(a, n, s, acc);
        } else {
          F::template TokenTile<16>(a, n, s, acc);
        }
        float* o = out + 16 * tile * out_stride + 16 * j;
        for (int64_t t = 0; t < m; ++t) {
          __m512 v = acc[t];
          if (accumulate) v = _mm512_add_ps(_mm512_loadu_ps(o + t * out_stride), v);
          _mm512_storeu_ps(o + t * out_stride, v);
        }
      }
    }
  }
  AmxRelease();
}

// QuantDotKernels::int8_probe on the tile unit: four independent C tiles, each TDPBSSD a full
// 16 x 16 x 64 product (the strip kernels use 32 of the 64 bytes per product, so they can reach
// at most half of this).
double AmxInt8Probe(int64_t iterations) {
  alignas(64) static const int8_t kZeros[16 * 64] = {};
  AmxConfigure(64, 16);  // every tile 16 x 64 bytes: tmm0-3 as C, tmm4 as A, tmm5 as B
  AmxTileZero<0>();
  AmxTileZero<1>();
  AmxTileZero<2>();
  AmxTileZero<3>();
  AmxTileLoad<4>(kZeros, 64);
  AmxTileLoad<5>(kZeros, 64);
  for (int64_t i = 0; i < iterations; ++i) {
    AmxDpbssd<0, 4, 5>();
    AmxDpbssd<1, 4, 5>();
    AmxDpbssd<2, 4, 5>();
    AmxDpbssd<3, 4, 5>();
  }
  AmxRelease();
  return static_cast<double>(iterations) * 4 * 16 * 16 * 64 * 2;
}
