#include "engine/quant/rows8.h"

#include <cstddef>
#include <cstring>

#include "engine/quant/blocks.h"
#include "engine/quant/k_scales.h"

namespace sg {
namespace {

// The parts of a format's block and of its tile.
struct Rows8Desc {
  int64_t block_elems;   // elements per block
  int64_t block_bytes;   // bytes per plain block
  int64_t header_bytes;  // bytes of the tile before its code vectors
  int64_t code_start;    // offset of the code bytes in a plain block
  int64_t code_bytes;    // code bytes per plain block
  int64_t chunks;        // 8-byte chunks per row in one run of code vectors (C in rows8.h)
};

Rows8Desc DescOf(DType type) {
  switch (type) {
    case DType::kQ4_0:
      return {kQK, sizeof(BlockQ4_0), 2 * kRows8, 2, kQK / 2, 2};
    case DType::kQ8_0:
      return {kQK, sizeof(BlockQ8_0), 2 * kRows8, 2, kQK, 4};
    case DType::kQ5_0:
      return {kQK, sizeof(BlockQ5_0), kRows8Q5_0HeaderBytes, offsetof(BlockQ5_0, qs), kQK / 2, 2};
    case DType::kQ6_K:  // code bytes: ql then qh, both at the start of the plain block
      return {kQKK, sizeof(BlockQ6_K), kRows8Q6KHeaderBytes, 0, kQKK / 2 + kQKK / 4, 4};
    default:  // kQ4_K
      return {kQKK, sizeof(BlockQ4_K), kRows8Q4KHeaderBytes, offsetof(BlockQ4_K, qs), kQKK / 2, 4};
  }
}

// Offset in a tile of code bytes [8m, 8m + 8) of row `row`'s block (layout in rows8.h).
int64_t ChunkOffset(const Rows8Desc& t, int row, int64_t m) {
  const int h = (row >> 1) & 1, k = (row & 1) + 2 * (row >> 2);
  const int64_t run = m / t.chunks, c = m % t.chunks;
  return t.header_bytes + 32 * (run * 2 * t.chunks + h * t.chunks + c) + 8 * k;
}

// Calls copy(tile_offset, plain_offset_in_row, bytes) for the code bytes of row `row`'s share of
// a group, in 8-byte chunks.
template <typename Fn>
void ForEachCodeChunk(const Rows8Desc& t, int64_t cols, int row, Fn&& copy) {
  const int64_t tile = kRows8 * t.block_bytes;
  for (int64_t b = 0; b < cols / t.block_elems; ++b) {
    for (int64_t m = 0; m < t.code_bytes / 8; ++m) {
      copy(b * tile + ChunkOffset(t, row, m), b * t.block_bytes + t.code_start + 8 * m, 8);
    }
  }
}

// Offset in a Q5_0 tile of byte c (bits 8c .. 8c+7) of row r's fifth bits (rows8.h).
int64_t Q5HighOffset(int r, int c) { return 2 * kRows8 + 16 * (r / 4) + 4 * c + r % 4; }

// Q4_K tile header of one row's block: d, dmin, and the 6-bit scales and mins re-encoded as
// low nibbles (byte 32 + 8j + r) and high bit pairs (byte 96 + 8 (j % 4) + r, nibble j / 4).
void PutQ4KHeader(const BlockQ4_K& blk, int r, std::byte* tile) {
  std::memcpy(tile + 2 * r, &blk.d, 2);
  std::memcpy(tile + 16 + 2 * r, &blk.dmin, 2);
  for (int j = 0; j < quant_internal::kKSubBlocks; ++j) {
    uint8_t sc, m;
    quant_internal::GetScaleMinK4(j, blk.scales, &sc, &m);
    tile[32 + 8 * j + r] = static_cast<std::byte>((sc & 0x0f) | ((m & 0x0f) << 4));
    const uint8_t high = static_cast<uint8_t>((sc >> 4) | ((m >> 4) << 2));
    std::byte& h = tile[96 + 8 * (j % 4) + r];
    h = static_cast<std::byte>(j < 4 ? (static_cast<uint8_t>(h) & 0xf0) | high
                                     : (static_cast<uint8_t>(h) & 0x0f) | (high << 4));
  }
}

void GetQ4KHeader(const std::byte* tile, int r, BlockQ4_K* blk) {
  std::memcpy(&blk->d, tile + 2 * r, 2);
  std::memcpy(&blk->dmin, tile + 16 + 2 * r, 2);
  uint8_t sc[quant_internal::kKSubBlocks], m[quant_internal::kKSubBlocks];
  for (int j = 0; j < quant_internal::kKSubBlocks; ++j) {
    const uint8_t low = static_cast<uint8_t>(tile[32 + 8 * j + r]);
    const uint8_t high = (static_cast<uint8_t>(tile[96 + 8 * (j % 4) + r]) >> (4 * (j / 4))) & 15;
    sc[j] = static_cast<uint8_t>((low & 0x0f) | ((high & 3) << 4));
    m[j] = static_cast<uint8_t>((low >> 4) | ((high >> 2) << 4));
  }
  quant_internal::PackScaleMinK4(sc, m, blk->scales);
}

// Offset in a Q6_K tile of row r's scale of sub-block k (rows8.h): the scales of sub-blocks 2p and
// 2p + 1 of one row are adjacent, so sign-extending 16 bytes gives one (2p, 2p + 1) int16 pair per
// row in int32 lane r.
int64_t Q6ScaleOffset(int r, int k) { return 2 * kRows8 + 16 * (k / 2) + 2 * r + k % 2; }

// Writes row r's Q6_K header fields (d, the 16 scales) from its plain block into a tile.
void PutQ6KHeader(const std::byte* blk, int r, std::byte* tile) {
  std::memcpy(tile + 2 * r, blk + offsetof(BlockQ6_K, d), 2);
  for (int k = 0; k < kQKK / 16; ++k) {
    tile[Q6ScaleOffset(r, k)] = blk[offsetof(BlockQ6_K, scales) + k];
  }
}

// The reverse of PutQ6KHeader: row r's d and scales back into its plain block.
void GetQ6KHeader(const std::byte* tile, int r, std::byte* blk) {
  std::memcpy(blk + offsetof(BlockQ6_K, d), tile + 2 * r, 2);
  for (int k = 0; k < kQKK / 16; ++k) {
    blk[offsetof(BlockQ6_K, scales) + k] = tile[Q6ScaleOffset(r, k)];
  }
}

}  // namespace

bool Rows8Format(DType type) {
  return type == DType::kQ4_0 || type == DType::kQ5_0 || type == DType::kQ8_0 ||
         type == DType::kQ4_K || type == DType::kQ6_K;
}

bool Rows8Eligible(DType type, const std::byte* plain, int64_t rows, int64_t cols) {
  if (!Rows8Format(type) || rows <= 0 || rows % kRows8 != 0 || cols <= 0 ||
      cols % DescOf(type).block_elems != 0) {
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
  const Rows8Desc t = DescOf(type);
  const int64_t row_bytes = cols / t.block_elems * t.block_bytes, tile = kRows8 * t.block_bytes;
  if (type == DType::kQ4_K) std::memset(packed, 0, static_cast<size_t>(kRows8 * row_bytes));
  for (int row = 0; row < kRows8; ++row) {
    const std::byte* src = plain + row * row_bytes;
    for (int64_t b = 0; b < cols / t.block_elems; ++b) {
      const std::byte* blk = src + b * t.block_bytes;
      if (type == DType::kQ4_K) {
        BlockQ4_K k;
        std::memcpy(&k, blk, sizeof(k));
        PutQ4KHeader(k, row, packed + b * tile);
      } else if (type == DType::kQ6_K) {
        PutQ6KHeader(blk, row, packed + b * tile);
      } else if (type == DType::kQ5_0) {
        std::memcpy(packed + b * tile + 2 * row, blk, 2);
        for (int c = 0; c < 4; ++c) {
          packed[b * tile + Q5HighOffset(row, c)] = blk[offsetof(BlockQ5_0, qh) + c];
        }
      } else {
        std::memcpy(packed + b * tile + 2 * row, blk, 2);
      }
    }
    ForEachCodeChunk(t, cols, row, [&](int64_t at, int64_t from, size_t n) {
      std::memcpy(packed + at, src + from, n);
    });
  }
}

void UnpackRows8Row(DType type, const std::byte* group, int64_t cols, int row,
                    std::byte* plain_row) {
  const Rows8Desc t = DescOf(type);
  const int64_t tile = kRows8 * t.block_bytes;
  for (int64_t b = 0; b < cols / t.block_elems; ++b) {
    std::byte* blk = plain_row + b * t.block_bytes;
    if (type == DType::kQ4_K) {
      BlockQ4_K k;
      GetQ4KHeader(group + b * tile, row, &k);
      std::memcpy(blk, &k, offsetof(BlockQ4_K, qs));
    } else if (type == DType::kQ6_K) {
      GetQ6KHeader(group + b * tile, row, blk);
    } else if (type == DType::kQ5_0) {
      std::memcpy(blk, group + b * tile + 2 * row, 2);
      for (int c = 0; c < 4; ++c) {
        blk[offsetof(BlockQ5_0, qh) + c] = group[b * tile + Q5HighOffset(row, c)];
      }
    } else {
      std::memcpy(blk, group + b * tile + 2 * row, 2);
    }
  }
  ForEachCodeChunk(t, cols, row, [&](int64_t at, int64_t to, size_t n) {
    std::memcpy(plain_row + to, group + at, n);
  });
}

}  // namespace sg
