// The 8-row interleaved weight layout (WeightLayout::kRows8) of Q4_0, Q5_0, Q8_0, Q4_K and Q6_K.
//
// Why: a decode matmul reads every weight once per token, and the one-row integer kernels spend
// most of their time on per-block work that does not depend on the row (loading and broadcasting
// the activation block, converting one scale, a horizontal sum). With 8 rows' blocks of one block
// column side by side, one activation load serves 8 rows, the 8 scales convert in one vector
// instruction, and the integer sums come out one row per SIMD lane (quant_dot.h, "8-row tiles").
//
// Layout: a group of 8 consecutive rows (rows 8g .. 8g+7) occupies the same bytes as the 8 plain
// rows did (8 * row_bytes), as one tile of 8 * block_bytes bytes per block column:
//   a header: Q4_0/Q8_0: bytes [0, 16) the 8 rows' fp16 scales d, row 0 first.
//             Q5_0 (48 bytes): d as above, then [16, 48) the fifth bits: byte c of row r's qh
//             (bits of elements 8c .. 8c+7) at 16 + 16 (r / 4) + 4c + r % 4, so one in-lane
//             byte shuffle spreads a quad's bytes over its quarters.
//             Q4_K (128 bytes): [0, 16) d, [16, 32) dmin, [32, 96) byte 8j + r = sub-block j's
//             scale (low nibble) and min (high nibble), low 4 bits each, of row r; [96, 128)
//             byte 8 (j % 4) + r, nibble j / 4: their high 2 bits (scale in bits 0-1, min 2-3).
//             Q6_K (144 bytes): [0, 16) d, [16, 144) byte 16 + 16 (k / 2) + 2r + k % 2 = row r's
//             int8 scale of sub-block k (16 elements), so 16 bytes sign-extended to int16 hold
//             the pair (k, k + 1), k even, of row r in 32-bit lane r.
//   then 32-byte code vectors. A row's code bytes (its plain block's code fields) are taken as
//   8-byte chunks m = 0, 1, ...; chunk m is in vector v = (m / C) * 2C + h * C + m % C, where
//   C = 2 for Q4_0/Q5_0 and 4 for Q8_0, Q4_K and Q6_K, and h in {0, 1} picks a quad of rows: in
//   vector v the 8-byte quarter k (0..3) holds row RowOfQuarter(h, k) = 2h + (k & 1) + 4(k >> 1).
//   So a vector holds the same 8 code bytes of 4 rows: Q4_0/Q5_0 low nibbles elements 8c+i, high
//   8c+16+i; Q8_0 element 8c+i; Q4_K (chunk 4g + c) low nibbles element 64g + 8c + i, high
//   64g + 32 + 8c + i. Q6_K's code bytes are ql[0, 128) then qh[0, 64) (24 chunks, 6 runs of 8
//   vectors): for half n in {0, 1} and c in [0, 4), runs 2n and 2n + 1 hold ql[64n + 8c + i] and
//   ql[64n + 32 + 8c + i] (low nibbles: elements 128n + 8c + i and + 32; high nibbles: + 64 and
//   + 96), run 4 + n holds qh[32n + 8c + i] (bit pairs 0-1, 2-3, 4-5, 6-7 for those four
//   elements), so three vectors give a quad's codes of 4 x 8 elements.
// The row order of the quarters makes one 256-bit horizontal add of the two halves' sums land
// row r in lane r.
// Thread rules: pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/core/dtype.h"

namespace sg {

inline constexpr int kRows8 = 8;
inline constexpr int64_t kRows8Q4KHeaderBytes = 128;
inline constexpr int64_t kRows8Q5_0HeaderBytes = 48;
inline constexpr int64_t kRows8Q6KHeaderBytes = 144;

inline constexpr int Rows8RowOfQuarter(int h, int k) { return 2 * h + (k & 1) + 4 * (k >> 1); }

// The formats with a kRows8 layout.
bool Rows8Format(DType type);

// Whether a {rows, cols} plain matrix can be stored as kRows8: a Rows8Format type, rows a multiple
// of 8, cols of the block size. Q8_0 also needs every code in [-127, 127] (the 8-row kernel
// multiplies the activation's magnitude by the code with the activation's sign, and -(-128) has no
// int8); files written by any quantizer we know never hold -128.
bool Rows8Eligible(DType type, const std::byte* plain, int64_t rows, int64_t cols);

// Packs 8 consecutive plain rows of `cols` elements (8 * row_bytes bytes at `plain`) into one
// group at `packed` (same size; the buffers must not overlap).
void PackRows8Group(DType type, const std::byte* plain, int64_t cols, std::byte* packed);

// Writes row `row` (0..7) of a packed group back in its plain layout (row_bytes bytes).
void UnpackRows8Row(DType type, const std::byte* group, int64_t cols, int row,
                    std::byte* plain_row);

}  // namespace sg
