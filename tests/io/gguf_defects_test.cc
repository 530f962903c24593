// One test per GGUF defect: each malformed file must yield a DataLoss naming the file and field,
// never a crash, a throw or a huge allocation (these run under ASan+UBSan too).
#include <gtest/gtest.h>

#include <cstring>

#include "engine/io/gguf.h"
#include "io_test_util.h"

namespace sg {
namespace {

using testing::ExpectError;
using testing::Map;
using testing::RawBytes;

constexpr char kName[] = "model.gguf: ";

StatusOr<std::unique_ptr<GgufFile>> ParseBytes(const RawBytes& b) {
  return GgufFile::Parse(Map(b.bytes(), "model.gguf"));
}

void ExpectDataLoss(const RawBytes& b, const std::string& needle) {
  ExpectError(ParseBytes(b), StatusCode::kDataLoss, kName, needle);
}

// A file with one f32 tensor {ne...} at `offset`, with `data_bytes` of data after the padding.
RawBytes OneTensor(const std::vector<int64_t>& ne, uint32_t type, uint64_t offset,
                   size_t data_bytes) {
  RawBytes b;
  b.GgufHeader(3, 1, 0).TensorInfo("blk.0.attn_q.weight", ne, type, offset).PadTo(32);
  b.Zeros(data_bytes);
  return b;
}

TEST(GgufDefectsTest, ValidBaseline) { EXPECT_TRUE(ParseBytes(OneTensor({4, 2}, 0, 0, 32)).ok()); }

TEST(GgufDefectsTest, TruncatedAtEveryPrefix) {
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  w.AddStringArray("tokenizer.ggml.tokens", {"<s>", "a", "bc"});
  w.AddFloat32Array("tokenizer.ggml.scores", {0.f, 1.f, 2.f});
  w.AddUint32("general.alignment", 32);
  ASSERT_TRUE(w.AddTensor("a", DType::kF32, {2, 3}, std::vector<uint8_t>(24, 1)).ok());
  ASSERT_TRUE(w.AddTensor("b", DType::kQ4_0, {1, 32}, std::vector<uint8_t>(18, 2)).ok());
  const std::vector<uint8_t> full = w.ToBytes();
  auto parsed = GgufFile::Parse(Map(full, "model.gguf"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  // Bytes past the last tensor's end are padding; every shorter prefix must fail.
  const GgufTensorInfo& last = (*parsed)->tensors().back();
  const size_t needed = (*parsed)->data_offset() + last.offset + last.nbytes;
  ASSERT_LE(needed, full.size());
  for (size_t n = 0; n < needed; ++n) {
    std::vector<uint8_t> prefix(full.begin(), full.begin() + n);
    auto r = GgufFile::Parse(Map(prefix, "model.gguf"));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << n;
    EXPECT_EQ(r.status().message().rfind(kName, 0), 0u) << r.status().message();
  }
}

TEST(GgufDefectsTest, BadMagicAndVersions) {
  RawBytes not_gguf;
  not_gguf.Raw("GGML").U32(3).U64(0).U64(0);
  ExpectDataLoss(not_gguf, "magic");
  RawBytes v1;
  v1.GgufHeader(1, 0, 0);
  ExpectDataLoss(v1, "GGUF v1 is not supported");
  RawBytes v4;
  v4.GgufHeader(4, 0, 0);
  ExpectDataLoss(v4, "unsupported version 4");
  RawBytes big_endian;
  big_endian.GgufHeader(0x03000000, 0, 0);
  ExpectDataLoss(big_endian, "big-endian");
  RawBytes empty;
  ExpectDataLoss(empty, "magic");
}

TEST(GgufDefectsTest, HugeCounts) {
  RawBytes kv;
  kv.GgufHeader(3, 0, uint64_t{1} << 62).Zeros(64);
  ExpectDataLoss(kv, "kv_count");
  RawBytes tensors;
  tensors.GgufHeader(3, uint64_t{1} << 62, 0).Zeros(64);
  ExpectDataLoss(tensors, "tensor_count");
  RawBytes key_len;
  key_len.GgufHeader(3, 0, 1).U64(uint64_t{1} << 63).Zeros(16);
  ExpectDataLoss(key_len, "string length 9223372036854775808");
  RawBytes str_len;
  str_len.GgufHeader(3, 0, 1).Str("k").U32(8).U64(uint64_t{1} << 63).Zeros(8);
  ExpectDataLoss(str_len, "key 'k': string length");
  RawBytes arr_len;
  arr_len.GgufHeader(3, 0, 1).Str("k").U32(9).U32(10).U64(uint64_t{1} << 61).Zeros(64);
  ExpectDataLoss(arr_len, "array length 2305843009213693952 of uint64");
  // Array of strings: each element needs at least its 8-byte length.
  RawBytes str_arr;
  str_arr.GgufHeader(3, 0, 1).Str("k").U32(9).U32(8).U64(5).Zeros(32);
  ExpectDataLoss(str_arr, "array length 5 of string");
}

TEST(GgufDefectsTest, ArraysNestedTooDeep) {
  RawBytes b;
  b.GgufHeader(3, 0, 1).Str("deep").U32(9);
  for (int i = 0; i < 20; ++i) b.U32(9).U64(1);  // array of array of ... each with one item
  b.U32(4).U64(0);
  ExpectDataLoss(b, "nested deeper than 8");
}

TEST(GgufDefectsTest, UnknownMetadataTypes) {
  RawBytes value;
  value.GgufHeader(3, 0, 1).Str("k").U32(13).U32(0);
  ExpectDataLoss(value, "key 'k': unknown value type 13");
  RawBytes elem;
  elem.GgufHeader(3, 0, 1).Str("k").U32(9).U32(99).U64(0);
  ExpectDataLoss(elem, "unknown array element type 99");
  RawBytes bad_bool;
  bad_bool.GgufHeader(3, 0, 1).Str("k").U32(7).U8(2);
  ExpectDataLoss(bad_bool, "bool value 2");
}

TEST(GgufDefectsTest, DuplicateNames) {
  RawBytes keys;
  keys.GgufHeader(3, 0, 2).KvU32("a", 1).KvU32("a", 2);
  ExpectDataLoss(keys, "key 'a': duplicate key");
  RawBytes tensors;
  tensors.GgufHeader(3, 2, 0).TensorInfo("t", {8}, 0, 0).TensorInfo("t", {8}, 0, 32).PadTo(32);
  tensors.Zeros(64);
  ExpectDataLoss(tensors, "tensor 't': duplicate tensor name");
}

TEST(GgufDefectsTest, BadAlignment) {
  for (uint32_t a : {0u, 3u, 48u}) {
    RawBytes b;
    b.GgufHeader(3, 0, 1).KvU32("general.alignment", a);
    ExpectDataLoss(b, "not a nonzero power of two");
  }
  RawBytes wrong_type;
  wrong_type.GgufHeader(3, 0, 1).Str("general.alignment").U32(10).U64(32);
  ExpectDataLoss(wrong_type, "must be uint32");
}

TEST(GgufDefectsTest, BadOffsets) {
  ExpectDataLoss(OneTensor({4, 2}, 0, 8, 64), "offset 8 is not a multiple of the alignment 32");
  ExpectDataLoss(OneTensor({4, 2}, 0, 0, 31), "+ size 32 exceeds file size");
  ExpectDataLoss(OneTensor({4, 2}, 0, 32, 32), "offset 32 + size 32 exceeds file size");
  // offset + data_offset overflows uint64 (offset itself is aligned).
  ExpectDataLoss(OneTensor({4, 2}, 0, ~uint64_t{31}, 32), "exceeds file size");
  RawBytes overlap;
  overlap.GgufHeader(3, 2, 0)
      .TensorInfo("x", {16}, 0, 0)  // 64 bytes at [0, 64)
      .TensorInfo("y", {8}, 0, 32)  // 32 bytes at [32, 64)
      .PadTo(32)
      .Zeros(64);
  ExpectDataLoss(overlap, "overlaps tensor 'x'");
}

TEST(GgufDefectsTest, BadDims) {
  ExpectDataLoss(OneTensor({4, 0}, 0, 0, 32), "ne[1] = 0 must be positive");
  ExpectDataLoss(OneTensor({-4}, 0, 0, 32), "ne[0] = -4 must be positive");
  ExpectDataLoss(OneTensor({1, 1, 1, 1, 1}, 0, 0, 32), "n_dims 5 exceeds 4");
  ExpectDataLoss(OneTensor({int64_t{1} << 40, int64_t{1} << 40}, 0, 0, 32),
                 "element count overflows");
  // q4_0 rows must hold whole 32-element blocks.
  ExpectDataLoss(OneTensor({33, 2}, 2, 0, 64), "ne[0] = 33 is not a multiple of the q4_0 block");
  // Dims that do not match the data: 64 x 64 f32 needs 16 KiB, the file holds 64 bytes.
  ExpectDataLoss(OneTensor({64, 64}, 0, 0, 64), "size 16384 exceeds file size");
  // Byte size overflows although the element count fits int64.
  ExpectDataLoss(OneTensor({int64_t{1} << 31, int64_t{1} << 31}, 0, 0, 32), "overflows");
}

TEST(GgufDefectsTest, UnknownTensorType) {
  ExpectDataLoss(OneTensor({4}, 4, 0, 32), "unknown tensor type 4");  // removed q4_2
  ExpectDataLoss(OneTensor({4}, 1000, 0, 32), "unknown tensor type 1000");
  ExpectDataLoss(OneTensor({32}, 39, 0, 32),
                 "unknown tensor type 39 (MXFP4, which streamgen does not support yet)");
}

TEST(GgufDefectsTest, ErrorNamesTheTensor) {
  auto r = ParseBytes(OneTensor({4096}, 0, 0, 100));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model.gguf: tensor 'blk.0.attn_q.weight': "),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace sg
