// A read-only, type-erased view of a tensor's bytes (usually inside an mmapped model file).
// Shape convention everywhere in streamgen: outermost dimension first, the last dimension is
// contiguous (PyTorch/safetensors order). A weight matrix of a Linear layer is {out, in}, one row
// per output. GGUF stores dims innermost-first; the GGUF reader reverses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/dtype.h"

namespace sg {

// How a weight matrix's rows are laid out in its bytes.
//  kRows:  row after row, each the type's blocks in order (GGUF, safetensors).
//  kRows8: groups of 8 rows, each group interleaved block column by block column into tiles
//          (engine/quant/rows8.h); same bytes per group as 8 plain rows. Made at load by
//          PackWeights for the integer decode kernels; rows != row(r) then.
enum class WeightLayout : uint8_t { kRows, kRows8 };

struct TensorView {
  DType type = DType::kF32;
  std::vector<int64_t> shape;       // outermost first; empty = scalar
  const std::byte* data = nullptr;  // not owned; lives as long as the file mapping
  uint64_t nbytes = 0;
  WeightLayout layout = WeightLayout::kRows;

  int ndim() const { return static_cast<int>(shape.size()); }
  bool empty() const { return data == nullptr; }
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  // Length of the contiguous last dimension (elements per row).
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  // Product of all other dimensions.
  int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
  uint64_t row_bytes() const { return rows() == 0 ? 0 : nbytes / static_cast<uint64_t>(rows()); }
  // Row r of a kRows view (a kRows8 view's rows are spread over its group; see rows8.h).
  const std::byte* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes(); }
};

// "[4096, 32000]" style, outermost first.
std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace sg
