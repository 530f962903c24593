#include "engine/quant/rows8.h"

#include <cstring>

#include "engine/quant/blocks.h"

namespace sg {
namespace {

constexpr int64_t kScaleBytes = 2 * kRows8;  // the tile's 8 fp16 scales

// Code bytes of one plain block (its bytes after the fp16 scale).
int64_t CodeBytes(DType type) {
  return type == DType::kQ4_0 ? static_cast<int64_t>(sizeof(BlockQ4_0::qs))
                              : static_cast<int64_t>(sizeof(BlockQ8_0::qs));
}

// Offset in a tile of code bytes [8c, 8c + 8) of row `row`'s block (layout in rows8.h).
int64_t ChunkOffset(int64_t chunks, int row, int64_t c) {
  const int h = (row >> 1) & 1, k = (row & 1) + 2 * (row >> 2);
  return kScaleBytes + 32 * (h * chunks + c) + 8 * k;
}

// Calls copy(tile_offset, plain_offset_in_row, bytes) for every piece of row `row`'s share of a
// group: its scale, then its code bytes in 8-byte chunks.
template <typename Fn>
void ForEachPiece(DType type, int64_t cols, int row, Fn&& copy) {
  const int64_t code = CodeBytes(type), block = 2 + code, tile = kRows8 * block;
  const int64_t chunks = code / 8;
  for (int64_t b = 0; b < cols / kQK; ++b) {
    copy(b * tile + 2 * row, b * block, 2);
    for (int64_t c = 0; c < chunks; ++c) {
      copy(b * tile + ChunkOffset(chunks, row, c), b * block + 2 + 8 * c, 8);
    }
  }
}

}  // namespace

bool Rows8Format(DType type) { return type == DType::kQ4_0 || type == DType::kQ8_0; }

bool Rows8Eligible(DType type, const std::byte* plain, int64_t rows, int64_t cols) {
  if (!Rows8Format(type) || rows <= 0 || rows % kRows8 != 0 || cols <= 0 || cols % kQK != 0) {
    return false;
  }
  if (type == DType::kQ8_0) {
    // Byte-wise OR of (code == -128) over each block, without a branch per byte.
    const BlockQ8_0* blocks = reinterpret_cast<const BlockQ8_0*>(plain);
    for (int64_t b = 0; b < rows * (cols / kQK); ++b) {
      uint8_t found = 0;
      for (int8_t q : blocks[b].qs) found |= static_cast<uint8_t>(q == -128);
      if (found != 0) return false;
    }
  }
  return true;
}

void PackRows8Group(DType type, const std::byte* plain, int64_t cols, std::byte* packed) {
  const int64_t row_bytes = cols / kQK * (2 + CodeBytes(type));
  for (int row = 0; row < kRows8; ++row) {
    const std::byte* src = plain + row * row_bytes;
    ForEachPiece(type, cols, row, [&](int64_t at, int64_t from, size_t n) {
      std::memcpy(packed + at, src + from, n);
    });
  }
}

void UnpackRows8Row(DType type, const std::byte* group, int64_t cols, int row,
                    std::byte* plain_row) {
  ForEachPiece(type, cols, row, [&](int64_t at, int64_t to, size_t n) {
    std::memcpy(plain_row + to, group + at, n);
  });
}

}  // namespace sg
