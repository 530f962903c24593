// A bounds-checked little-endian cursor over untrusted bytes, plus overflow-checked arithmetic.
// Every read either succeeds entirely or fails without moving the cursor, so callers can report
// exactly where a file stopped making sense. Header-only: it is small and on the parse hot path.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace sg {

static_assert(std::endian::native == std::endian::little,
              "file readers assume a little-endian host (GGUF and safetensors are little-endian)");

// a + b or a * b into *out; false (and *out unspecified) on uint64 overflow.
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// Rounds `value` up to a multiple of `alignment` (a nonzero power of two); false on overflow.
inline bool AlignUp(uint64_t value, uint64_t alignment, uint64_t* out) {
  uint64_t bumped;
  if (!CheckedAdd(value, alignment - 1, &bumped)) return false;
  *out = bumped & ~(alignment - 1);
  return true;
}

inline bool IsPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

class ByteReader {
 public:
  ByteReader(const std::byte* data, uint64_t size) : data_(data), size_(size) {}

  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }

  // Reads a trivially copyable little-endian scalar (integers, float, double).
  template <typename T>
  bool Read(T* out) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }

  // A view of the next n bytes (valid as long as the underlying buffer).
  bool ReadBytes(uint64_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = std::string_view(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(n));
    pos_ += n;
    return true;
  }

  bool Skip(uint64_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  const std::byte* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

}  // namespace sg
