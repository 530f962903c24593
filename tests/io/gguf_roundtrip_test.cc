// GGUF writer -> reader round trips for every metadata type, tensors of several types, custom
// alignment, files on disk, and a hand-built v2 file.
#include <gtest/gtest.h>

#include <cstring>

#include "engine/io/gguf.h"
#include "io_test_util.h"

namespace sg {
namespace {

using testing::Map;
using testing::RawBytes;

GgufValue Make(GgufType type, decltype(GgufValue::value) v) {
  GgufValue out;
  out.type = type;
  out.value = std::move(v);
  return out;
}

GgufValue MakeArray(GgufType elem_type, std::vector<GgufValue> items) {
  GgufArray arr;
  arr.elem_type = elem_type;
  arr.items = std::move(items);
  return Make(GgufType::kArray, std::move(arr));
}

std::vector<uint8_t> Iota(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
  return v;
}

std::unique_ptr<GgufFile> ParseOk(const std::vector<uint8_t>& bytes) {
  auto parsed = GgufFile::Parse(Map(bytes, "rt.gguf"));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? std::move(parsed).value() : nullptr;
}

TEST(GgufRoundTripTest, EveryScalarType) {
  GgufWriter w;
  w.AddValue("u8", Make(GgufType::kUint8, uint64_t{250}));
  w.AddValue("i8", Make(GgufType::kInt8, int64_t{-100}));
  w.AddValue("u16", Make(GgufType::kUint16, uint64_t{65000}));
  w.AddValue("i16", Make(GgufType::kInt16, int64_t{-32000}));
  w.AddUint32("u32", 4000000000u);
  w.AddInt32("i32", -2000000000);
  w.AddFloat32("f32", 0.1f);
  w.AddBool("bool", true);
  w.AddString("str", std::string("h\0llo", 5));
  w.AddUint64("u64", 18000000000000000000ull);
  w.AddValue("i64", Make(GgufType::kInt64, int64_t{-9000000000000000000}));
  w.AddValue("f64", Make(GgufType::kFloat64, 1e300));
  auto f = ParseOk(w.ToBytes());
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 3u);
  ASSERT_EQ(f->metadata().size(), 12u);
  EXPECT_EQ(f->metadata()[0].key, "u8");  // file order kept

  EXPECT_EQ(f->Find("u8")->type, GgufType::kUint8);
  EXPECT_EQ(f->Find("u8")->AsInt(), 250);
  EXPECT_EQ(f->Find("i8")->AsInt(), -100);
  EXPECT_EQ(f->Find("u16")->AsInt(), 65000);
  EXPECT_EQ(f->Find("i16")->AsInt(), -32000);
  EXPECT_EQ(f->Find("u32")->AsInt(), 4000000000);
  EXPECT_EQ(f->Find("i32")->type, GgufType::kInt32);
  EXPECT_EQ(f->Find("i32")->AsInt(), -2000000000);
  EXPECT_EQ(f->Find("f32")->AsFloat(), static_cast<double>(0.1f));
  EXPECT_EQ(f->Find("bool")->AsBool(), true);
  ASSERT_NE(f->Find("str")->AsString(), nullptr);
  EXPECT_EQ(*f->Find("str")->AsString(), std::string("h\0llo", 5));
  EXPECT_EQ(std::get<uint64_t>(f->Find("u64")->value), 18000000000000000000ull);
  EXPECT_EQ(f->Find("u64")->AsInt(), std::nullopt);  // does not fit int64
  EXPECT_EQ(f->Find("i64")->AsInt(), -9000000000000000000);
  EXPECT_EQ(f->Find("f64")->AsFloat(), 1e300);
  EXPECT_EQ(f->Find("f64")->AsInt(), std::nullopt);
  EXPECT_EQ(f->Find("str")->AsBool(), std::nullopt);
  EXPECT_EQ(f->Find("missing"), nullptr);
  EXPECT_TRUE(f->tensors().empty());
}

TEST(GgufRoundTripTest, ArraysIncludingNested) {
  GgufWriter w;
  w.AddStringArray("tokens", {"a", "", "ccc"});
  w.AddInt32Array("types", {1, -2, 3});
  w.AddFloat32Array("scores", {0.5f, -1.25f});
  w.AddValue("empty", MakeArray(GgufType::kUint64, {}));
  w.AddValue("bools", MakeArray(GgufType::kBool,
                                {Make(GgufType::kBool, false), Make(GgufType::kBool, true)}));
  // [[["x"], []], [["y", "z"]]]: arrays of arrays of strings.
  GgufValue inner1 = MakeArray(GgufType::kString, {Make(GgufType::kString, std::string("x"))});
  GgufValue inner2 = MakeArray(GgufType::kString, {});
  GgufValue inner3 = MakeArray(GgufType::kString, {Make(GgufType::kString, std::string("y")),
                                                   Make(GgufType::kString, std::string("z"))});
  GgufValue mid1 = MakeArray(GgufType::kArray, {inner1, inner2});
  GgufValue mid2 = MakeArray(GgufType::kArray, {inner3});
  w.AddValue("nested", MakeArray(GgufType::kArray, {mid1, mid2}));
  auto f = ParseOk(w.ToBytes());
  ASSERT_NE(f, nullptr);

  const GgufArray* tokens = f->Find("tokens")->AsArray();
  ASSERT_NE(tokens, nullptr);
  EXPECT_EQ(tokens->elem_type, GgufType::kString);
  ASSERT_EQ(tokens->items.size(), 3u);
  EXPECT_EQ(*tokens->items[2].AsString(), "ccc");
  EXPECT_EQ(*tokens->items[1].AsString(), "");
  const GgufArray* types = f->Find("types")->AsArray();
  ASSERT_EQ(types->items.size(), 3u);
  EXPECT_EQ(types->items[1].AsInt(), -2);
  EXPECT_EQ(types->items[1].type, GgufType::kInt32);
  EXPECT_EQ(f->Find("scores")->AsArray()->items[1].AsFloat(), -1.25);
  EXPECT_EQ(f->Find("empty")->AsArray()->elem_type, GgufType::kUint64);
  EXPECT_TRUE(f->Find("empty")->AsArray()->items.empty());
  EXPECT_EQ(f->Find("bools")->AsArray()->items[1].AsBool(), true);

  const GgufArray* nested = f->Find("nested")->AsArray();
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->items.size(), 2u);
  const GgufArray* m1 = nested->items[0].AsArray();
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1->elem_type, GgufType::kArray);
  ASSERT_EQ(m1->items.size(), 2u);
  EXPECT_EQ(*m1->items[0].AsArray()->items[0].AsString(), "x");
  EXPECT_TRUE(m1->items[1].AsArray()->items.empty());
  EXPECT_EQ(*nested->items[1].AsArray()->items[0].AsArray()->items[1].AsString(), "z");
  EXPECT_EQ(f->Find("nested")->ToDisplayString(), "[[[\"x\"], []], [[\"y\", \"z\"]]]");
}

TEST(GgufRoundTripTest, TensorsShapesOffsetsAndBytes) {
  GgufWriter w;
  w.AddString("general.architecture", "llama");
  const std::vector<uint8_t> a = Iota(2 * 3 * 4);          // f32 {2, 3}
  const std::vector<uint8_t> b = Iota(2 * 2 * 34);         // q8_0 {2, 64}: 2 blocks per row
  const std::vector<uint8_t> c = Iota(4 * 2 * 3 * 5 * 2);  // f16 {4, 2, 3, 5}
  ASSERT_TRUE(w.AddTensor("a", DType::kF32, {2, 3}, a).ok());
  ASSERT_TRUE(w.AddTensor("b", DType::kQ8_0, {2, 64}, b).ok());
  ASSERT_TRUE(w.AddTensor("c", DType::kF16, {4, 2, 3, 5}, c).ok());
  ASSERT_TRUE(w.AddTensor("s", DType::kF32, {}, Iota(4)).ok());  // 0-dim scalar
  auto f = ParseOk(w.ToBytes());
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->tensors().size(), 4u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_offset() % 32, 0u);

  const GgufTensorInfo* tb = f->FindTensor("b");
  ASSERT_NE(tb, nullptr);
  EXPECT_EQ(tb->type, DType::kQ8_0);
  EXPECT_EQ(tb->shape, (std::vector<int64_t>{2, 64}));
  EXPECT_EQ(tb->nbytes, b.size());
  EXPECT_EQ(tb->offset % 32, 0u);
  TensorView vb = f->View(*tb);
  ASSERT_EQ(vb.nbytes, b.size());
  EXPECT_EQ(std::memcmp(vb.data, b.data(), b.size()), 0);
  EXPECT_EQ(vb.rows(), 2);
  EXPECT_EQ(vb.row_bytes(), 68u);

  const GgufTensorInfo* tc = f->FindTensor("c");
  EXPECT_EQ(tc->shape, (std::vector<int64_t>{4, 2, 3, 5}));
  TensorView vc = f->View(*tc);
  EXPECT_EQ(std::memcmp(vc.data, c.data(), c.size()), 0);
  EXPECT_EQ(f->View(*f->FindTensor("a")).nbytes, 24u);
  EXPECT_TRUE(f->FindTensor("s")->shape.empty());
  EXPECT_EQ(f->FindTensor("s")->nbytes, 4u);
  EXPECT_EQ(f->FindTensor("nope"), nullptr);
}

TEST(GgufRoundTripTest, CustomAlignmentIsWrittenAndHonoured) {
  GgufWriter w;
  w.SetAlignment(256);
  ASSERT_TRUE(w.AddTensor("x", DType::kF32, {3}, Iota(12)).ok());
  ASSERT_TRUE(w.AddTensor("y", DType::kF32, {5}, Iota(20)).ok());
  auto f = ParseOk(w.ToBytes());
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->alignment(), 256u);
  ASSERT_NE(f->Find("general.alignment"), nullptr);
  EXPECT_EQ(f->Find("general.alignment")->type, GgufType::kUint32);
  EXPECT_EQ(f->data_offset() % 256, 0u);
  EXPECT_EQ(f->FindTensor("y")->offset, 256u);
}

TEST(GgufRoundTripTest, WriterRefusesWhatTheReaderWouldRefuse) {
  GgufWriter w;
  EXPECT_FALSE(w.AddTensor("q", DType::kQ4_0, {2, 33}, Iota(100)).ok());  // not whole blocks
  EXPECT_FALSE(w.AddTensor("f", DType::kF32, {2, 3}, Iota(23)).ok());     // wrong byte count
  EXPECT_FALSE(w.AddTensor("z", DType::kF32, {0, 3}, {}).ok());
  ASSERT_TRUE(w.AddTensor("t", DType::kF32, {1}, Iota(4)).ok());
  EXPECT_FALSE(w.AddTensor("t", DType::kF32, {1}, Iota(4)).ok());  // duplicate
  w.AddString("k", "v");
  w.AddString("k", "w");
  EXPECT_TRUE(w.ToBytes().empty());  // duplicate key
  GgufWriter bad_value;
  bad_value.AddValue("k", Make(GgufType::kUint32, std::string("not a number")));
  EXPECT_TRUE(bad_value.ToBytes().empty());
  GgufWriter bad_align;
  bad_align.SetAlignment(48);
  EXPECT_TRUE(bad_align.ToBytes().empty());
}

TEST(GgufRoundTripTest, WriteAndOpenFile) {
  testing::TempDir dir;
  GgufWriter w;
  w.AddUint32("llama.block_count", 2);
  ASSERT_TRUE(w.AddTensor("t", DType::kBF16, {4, 8}, Iota(64)).ok());
  ASSERT_TRUE(w.Write(dir.File("m.gguf")).ok());
  auto f = GgufFile::Open(dir.File("m.gguf"));
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->path(), dir.File("m.gguf"));
  EXPECT_EQ((*f)->Find("llama.block_count")->AsInt(), 2);
  EXPECT_EQ((*f)->FindTensor("t")->type, DType::kBF16);
  auto missing = GgufFile::Open(dir.File("absent.gguf"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST(GgufRoundTripTest, HandBuiltVersion2File) {
  RawBytes b;
  b.GgufHeader(2, 1, 2);
  b.Str("general.name").U32(8).Str("tiny");
  b.Str("general.alignment").U32(4).U32(16);
  b.TensorInfo("w", {4, 2}, 0, 0);  // ne innermost first: 2 rows of 4 f32
  b.PadTo(16);
  const size_t data_at = b.size();
  for (int i = 0; i < 8; ++i) b.Put<float>(static_cast<float>(i));
  auto f = ParseOk(b.bytes());
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->version(), 2u);
  EXPECT_EQ(f->alignment(), 16u);
  EXPECT_EQ(f->data_offset(), data_at);
  EXPECT_EQ(*f->Find("general.name")->AsString(), "tiny");
  const GgufTensorInfo* w = f->FindTensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 4}));
  float v5 = 0;
  std::memcpy(&v5, f->View(*w).row(1) + 4, 4);
  EXPECT_EQ(v5, 5.0f);
}

TEST(GgufRoundTripTest, DisplayStringsAreShort) {
  std::vector<std::string> many(100, "t");
  GgufWriter w;
  w.AddStringArray("tokens", many);
  w.AddString("long", std::string(500, 'a'));
  w.AddFloat32("eps", 1e-5f);
  auto f = ParseOk(w.ToBytes());
  ASSERT_NE(f, nullptr);
  const std::string tokens = f->Find("tokens")->ToDisplayString();
  EXPECT_NE(tokens.find("(100 string items)"), std::string::npos) << tokens;
  EXPECT_LT(tokens.size(), 100u);
  EXPECT_LT(f->Find("long")->ToDisplayString().size(), 120u);
  EXPECT_EQ(f->Find("eps")->ToDisplayString(), "9.99999975e-06");
  EXPECT_STREQ(GgufTypeName(GgufType::kFloat64), "float64");
}

}  // namespace
}  // namespace sg
