// ByteReader and checked arithmetic: the bounds every parser relies on.
#include "engine/io/byte_reader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace sg {
namespace {

TEST(IoByteReaderTest, ReadsLittleEndianAndStopsAtEnd) {
  const uint8_t raw[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06};
  ByteReader r(reinterpret_cast<const std::byte*>(raw), sizeof(raw));
  uint32_t v = 0;
  ASSERT_TRUE(r.Read(&v));
  EXPECT_EQ(v, 0x04030201u);
  EXPECT_EQ(r.remaining(), 2u);
  EXPECT_FALSE(r.Read(&v));  // only 2 bytes left: fails without moving
  EXPECT_EQ(r.pos(), 4u);
  std::string_view s;
  EXPECT_FALSE(r.ReadBytes(3, &s));
  EXPECT_FALSE(r.ReadBytes(std::numeric_limits<uint64_t>::max(), &s));
  ASSERT_TRUE(r.ReadBytes(2, &s));
  EXPECT_EQ(s, std::string_view("\x05\x06", 2));
  EXPECT_TRUE(r.Skip(0));
  EXPECT_FALSE(r.Skip(1));
}

TEST(IoByteReaderTest, EmptyBuffer) {
  ByteReader r(nullptr, 0);
  uint8_t b = 0;
  EXPECT_FALSE(r.Read(&b));
  std::string_view s;
  EXPECT_TRUE(r.ReadBytes(0, &s));
  EXPECT_TRUE(s.empty());
}

TEST(IoByteReaderTest, CheckedArithmetic) {
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  uint64_t out = 0;
  EXPECT_TRUE(CheckedAdd(max - 1, 1, &out));
  EXPECT_EQ(out, max);
  EXPECT_FALSE(CheckedAdd(max, 1, &out));
  EXPECT_TRUE(CheckedMul(uint64_t{1} << 32, (uint64_t{1} << 32) - 1, &out));
  EXPECT_FALSE(CheckedMul(uint64_t{1} << 32, uint64_t{1} << 32, &out));
  ASSERT_TRUE(AlignUp(33, 32, &out));
  EXPECT_EQ(out, 64u);
  ASSERT_TRUE(AlignUp(64, 32, &out));
  EXPECT_EQ(out, 64u);
  EXPECT_FALSE(AlignUp(max - 3, 32, &out));
  EXPECT_TRUE(IsPowerOfTwo(1));
  EXPECT_TRUE(IsPowerOfTwo(uint64_t{1} << 63));
  EXPECT_FALSE(IsPowerOfTwo(0));
  EXPECT_FALSE(IsPowerOfTwo(96));
}

}  // namespace
}  // namespace sg
