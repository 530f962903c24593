// safetensors: writer -> reader round trip and one test per header defect.
#include "engine/io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

#include "io_test_util.h"

namespace sg {
namespace {

using testing::ExpectError;
using testing::Map;
using testing::SafetensorsBytes;

constexpr char kFileName[] = "model.safetensors: ";

StatusOr<std::unique_ptr<SafetensorsFile>> ParseHeader(const std::string& header,
                                                       size_t data_bytes = 16) {
  return SafetensorsFile::Parse(
      Map(SafetensorsBytes(header, std::vector<uint8_t>(data_bytes, 0)), "model.safetensors"));
}

void ExpectDataLoss(const std::string& header, const std::string& needle, size_t data_bytes = 16) {
  ExpectError(ParseHeader(header, data_bytes), StatusCode::kDataLoss, kFileName, needle);
}

std::vector<uint8_t> Ramp(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 3 + 5);
  return v;
}

TEST(SafetensorsTest, RoundTrip) {
  testing::TempDir dir;
  const std::string path = dir.File("model.safetensors");
  std::vector<SafetensorsWriteTensor> tensors = {
      {"z.weight", DType::kF32, {2, 3}, Ramp(24)},   {"a.weight", DType::kBF16, {4}, Ramp(8)},
      {"m.weight", DType::kF16, {1, 1, 3}, Ramp(6)}, {"ids", DType::kI64, {2}, Ramp(16)},
      {"scalar", DType::kF32, {}, Ramp(4)},          {"empty", DType::kF32, {0, 7}, {}},
  };
  ASSERT_TRUE(WriteSafetensors(path, tensors, {{"format", "pt"}}).ok());
  auto st = SafetensorsFile::Open(path);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ((*st)->metadata().at("format"), "pt");
  const auto& got = (*st)->tensors();
  ASSERT_EQ(got.size(), tensors.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(tensors[i].name);
    EXPECT_EQ(got[i].name, tensors[i].name);  // header order kept
    EXPECT_EQ(got[i].type, tensors[i].type);
    EXPECT_EQ(got[i].shape, tensors[i].shape);
    EXPECT_EQ(got[i].view.shape, tensors[i].shape);
    ASSERT_EQ(got[i].view.nbytes, tensors[i].bytes.size());
    if (!tensors[i].bytes.empty()) {
      EXPECT_EQ(std::memcmp(got[i].view.data, tensors[i].bytes.data(), tensors[i].bytes.size()), 0);
    }
  }
  // The header is padded so the data buffer starts 8-byte aligned.
  uint64_t header_len = 0;
  std::memcpy(&header_len, (*st)->file()->data(), 8);
  EXPECT_EQ(header_len % 8, 0u);
}

TEST(SafetensorsTest, WriterRefusesBadInput) {
  testing::TempDir dir;
  const std::string path = dir.File("x.safetensors");
  EXPECT_FALSE(WriteSafetensors(path, {{"a", DType::kF32, {2}, Ramp(7)}}).ok());
  EXPECT_FALSE(WriteSafetensors(path, {{"a", DType::kQ4_0, {32}, Ramp(18)}}).ok());
  EXPECT_FALSE(
      WriteSafetensors(path, {{"a", DType::kF32, {1}, Ramp(4)}, {"a", DType::kF32, {1}, Ramp(4)}})
          .ok());
  EXPECT_FALSE(WriteSafetensors(path, {{"bad\xff", DType::kF32, {1}, Ramp(4)}}).ok());
}

TEST(SafetensorsTest, TruncatedAtEveryPrefix) {
  testing::TempDir dir;
  const std::string path = dir.File("model.safetensors");
  ASSERT_TRUE(WriteSafetensors(
                  path, {{"a", DType::kF32, {2, 2}, Ramp(16)}, {"b", DType::kF16, {3}, Ramp(6)}},
                  {{"k", "v"}})
                  .ok());
  auto full = MappedFile::Open(path);
  ASSERT_TRUE(full.ok());
  const auto* data = reinterpret_cast<const uint8_t*>((*full)->data());
  std::vector<uint8_t> bytes(data, data + (*full)->size());
  ASSERT_TRUE(SafetensorsFile::Parse(Map(bytes, "model.safetensors")).ok());
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + n);
    auto r = SafetensorsFile::Parse(Map(prefix, "model.safetensors"));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << n;
  }
}

TEST(SafetensorsTest, BadHeaderLength) {
  std::vector<uint8_t> tiny = {1, 2, 3};
  ExpectError(SafetensorsFile::Parse(Map(tiny, "model.safetensors")), StatusCode::kDataLoss,
              kFileName, "too short");
  testing::RawBytes past_end;
  past_end.U64(1000).Raw("{}");
  ExpectError(SafetensorsFile::Parse(Map(past_end.bytes(), "model.safetensors")),
              StatusCode::kDataLoss, kFileName, "header length: 1000 exceeds the 2 bytes");
  testing::RawBytes huge;
  huge.U64(uint64_t{1} << 63).Raw("{}");
  ExpectError(SafetensorsFile::Parse(Map(huge.bytes(), "model.safetensors")), StatusCode::kDataLoss,
              kFileName, "exceeds the limit");
}

TEST(SafetensorsTest, BadJson) {
  ExpectDataLoss("{\"a\": ", "header: invalid JSON");
  ExpectDataLoss("{\"a\xff\": 1}", "header: invalid JSON");  // invalid UTF-8
  ExpectDataLoss("[1, 2]", "header: not a JSON object");
  ExpectDataLoss("\"str\"", "not a JSON object");
  ExpectDataLoss("{\"a\": 5}", "tensor 'a': entry is not a JSON object");
  ExpectDataLoss(std::string(200000, '[') + std::string(200000, ']'), "not a JSON object");
}

TEST(SafetensorsTest, BadFields) {
  ExpectDataLoss(R"({"a": {"shape": [1], "data_offsets": [0, 4]}})", "missing or non-string");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "data_offsets": [0, 4]}})", "non-array \"shape\"");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [1]}})", "data_offsets");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})",
                 "non-negative integers");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})",
                 "non-negative integers");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})",
                 "array of two integers");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, "4"]}})",
                 "array of two integers");
  ExpectDataLoss(R"({"__metadata__": {"k": 1}})", "__metadata__: value of 'k' is not a string");
  ExpectDataLoss(R"({"__metadata__": [1]})", "__metadata__: not a JSON object");
}

TEST(SafetensorsTest, WrongDtype) {
  ExpectDataLoss(R"({"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}})",
                 "tensor 'a': unknown dtype \"Q4\"");
  ExpectError(ParseHeader(R"({"a": {"dtype": "BOOL", "shape": [1], "data_offsets": [0, 1]}})"),
              StatusCode::kUnimplemented, kFileName,
              "dtype BOOL is not supported; safetensors weights must be F32, F16 or BF16 (for a "
              "quantized model, use a GGUF file)");
  auto i8 = ParseHeader(R"({"a": {"dtype": "I8", "shape": [3], "data_offsets": [0, 3]}})");
  ASSERT_TRUE(i8.ok()) << i8.status().ToString();
  EXPECT_EQ((*i8)->tensors()[0].type, DType::kI8);
}

TEST(SafetensorsTest, OffsetsMismatch) {
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})",
                 "data_offsets span 4 bytes but shape [2] of F32 needs 8");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})",
                 "begin 8 > end 4");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [4, 20]}})",
                 "end 20 exceeds the data buffer of 16 bytes");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4],
                           "data_offsets": [0, 16]}})",
                 "overflows");
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [1],
                           "data_offsets": [0, 18446744073709551615]}})",
                 "array of two integers");
}

TEST(SafetensorsTest, Overlap) {
  ExpectDataLoss(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
                 "overlap tensor 'a'");
  // Empty tensors may share an offset with anything.
  auto ok = ParseHeader(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                            "e": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

}  // namespace
}  // namespace sg
