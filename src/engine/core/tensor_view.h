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

struct TensorView {
  DType type = DType::kF32;
  std::vector<int64_t> shape;       // outermost first; empty = scalar
  const std::byte* data = nullptr;  // not owned; lives as long as the file mapping
  uint64_t nbytes = 0;

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
  const std::byte* row(int64_t r) const { return data + static_cast<uint64_t>(r) * row_bytes(); }
};

// "[4096, 32000]" style, outermost first.
std::string ShapeToString(const std::vector<int64_t>& shape);

}  // namespace sg
