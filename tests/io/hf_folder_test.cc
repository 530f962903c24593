// HF folders: single-file and sharded layouts, and every way an index can disagree with its shards.
#include "engine/io/hf_folder.h"

#include <gtest/gtest.h>

#include <cstring>

#include "engine/io/safetensors.h"
#include "io_test_util.h"

namespace sg {
namespace {

using testing::TempDir;

SafetensorsWriteTensor F32(const std::string& name, float value, int64_t n = 2) {
  std::vector<uint8_t> bytes(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i) std::memcpy(bytes.data() + i * 4, &value, 4);
  return {name, DType::kF32, {n}, bytes};
}

float First(const TensorView& v) {
  float f = 0;
  std::memcpy(&f, v.data, 4);
  return f;
}

// A sharded folder: shard 1 holds a, b; shard 2 holds c.
void WriteSharded(const TempDir& dir, const std::string& index) {
  dir.WriteText("config.json", R"({"model_type": "llama", "hidden_size": 8})");
  ASSERT_TRUE(
      WriteSafetensors(dir.File("model-00001-of-00002.safetensors"), {F32("a", 1.f), F32("b", 2.f)})
          .ok());
  ASSERT_TRUE(
      WriteSafetensors(dir.File("model-00002-of-00002.safetensors"), {F32("c", 3.f, 5)}).ok());
  dir.WriteText("model.safetensors.index.json", index);
}

constexpr char kGoodIndex[] = R"({"metadata": {"total_size": 36}, "weight_map": {
    "a": "model-00001-of-00002.safetensors",
    "b": "model-00001-of-00002.safetensors",
    "c": "model-00002-of-00002.safetensors"}})";

TEST(HfFolderTest, SingleFile) {
  TempDir dir;
  dir.WriteText("config.json", R"({"model_type": "llama"})");
  ASSERT_TRUE(WriteSafetensors(dir.File("model.safetensors"), {F32("w", 7.f), F32("v", 8.f)}).ok());
  EXPECT_TRUE(IsHfFolder(dir.path()));
  auto f = OpenHfFolder(dir.path());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->dir, dir.path());
  EXPECT_EQ((*f)->config["model_type"], "llama");
  ASSERT_NE((*f)->tensors.Find("w"), nullptr);
  EXPECT_EQ(First(*(*f)->tensors.Find("w")), 7.f);
  EXPECT_EQ((*f)->tensors.all().size(), 2u);
  EXPECT_EQ((*f)->tensors.files().size(), 1u);
}

TEST(HfFolderTest, Sharded) {
  TempDir dir;
  WriteSharded(dir, kGoodIndex);
  auto f = OpenHfFolder(dir.path());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)->tensors.all().size(), 3u);
  EXPECT_EQ((*f)->tensors.files().size(), 2u);
  const TensorView* c = (*f)->tensors.Find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(First(*c), 3.f);
  EXPECT_EQ(First(*(*f)->tensors.Find("b")), 2.f);
}

TEST(HfFolderTest, MissingShard) {
  TempDir dir;
  WriteSharded(dir, R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                                        "c": "model-00009-of-00009.safetensors"}})");
  auto f = OpenHfFolder(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("shard 'model-00009-of-00009.safetensors' is missing"),
            std::string::npos)
      << f.status().message();
}

TEST(HfFolderTest, IndexListsTensorInWrongShard) {
  TempDir dir;
  WriteSharded(dir, R"({"weight_map": {"a": "model-00002-of-00002.safetensors",
                                        "b": "model-00001-of-00002.safetensors",
                                        "c": "model-00002-of-00002.safetensors"}})");
  auto f = OpenHfFolder(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(f.status().message().find("tensor 'a' is listed in shard "
                                      "'model-00002-of-00002.safetensors' but found in "
                                      "'model-00001-of-00002.safetensors'"),
            std::string::npos)
      << f.status().message();
}

TEST(HfFolderTest, IndexListsAbsentTensor) {
  TempDir dir;
  WriteSharded(dir, R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                                        "zz": "model-00002-of-00002.safetensors"}})");
  auto f = OpenHfFolder(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("tensor 'zz' is not in its shard"), std::string::npos)
      << f.status().message();
}

TEST(HfFolderTest, DuplicateTensorAcrossShards) {
  TempDir dir;
  WriteSharded(dir, kGoodIndex);
  ASSERT_TRUE(
      WriteSafetensors(dir.File("model-00002-of-00002.safetensors"), {F32("c", 3.f), F32("a", 9.f)})
          .ok());
  auto f = OpenHfFolder(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(f.status().message().find("duplicate tensor name 'a'"), std::string::npos)
      << f.status().message();
}

TEST(HfFolderTest, ShardNamesMustBePlainFileNames) {
  for (const char* shard : {"../model.safetensors", "sub/model.safetensors", "..", ""}) {
    TempDir dir;
    WriteSharded(dir, std::string(R"({"weight_map": {"a": ")") + shard + R"("}})");
    auto f = OpenHfFolder(dir.path());
    ASSERT_FALSE(f.ok()) << shard;
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << shard;
    EXPECT_NE(f.status().message().find("is not a plain file name"), std::string::npos)
        << f.status().message();
  }
}

TEST(HfFolderTest, BadIndexJson) {
  for (const char* index : {"{", "[]", R"({"weight_map": []})", R"({"weight_map": {"a": 1}})",
                            R"({"weight_map": {}})", R"({"metadata": {}})"}) {
    TempDir dir;
    WriteSharded(dir, index);
    auto f = OpenHfFolder(dir.path());
    ASSERT_FALSE(f.ok()) << index;
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << index;
    EXPECT_NE(f.status().message().find("model.safetensors.index.json"), std::string::npos)
        << f.status().message();
  }
}

TEST(HfFolderTest, BadOrMissingConfig) {
  TempDir dir;
  EXPECT_FALSE(IsHfFolder(dir.path()));
  EXPECT_EQ(OpenHfFolder(dir.path()).status().code(), StatusCode::kNotFound);
  dir.WriteText("config.json", "[1, 2]");
  EXPECT_TRUE(IsHfFolder(dir.path()));
  auto not_object = OpenHfFolder(dir.path());
  EXPECT_EQ(not_object.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(not_object.status().message().find("config.json: not a JSON object"),
            std::string::npos);
  dir.WriteText("config.json", "{\"a\": ");
  EXPECT_EQ(OpenHfFolder(dir.path()).status().code(), StatusCode::kDataLoss);
  dir.WriteText("config.json", "");
  EXPECT_EQ(OpenHfFolder(dir.path()).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(OpenHfFolder(dir.File("nope")).status().code(), StatusCode::kNotFound);
}

TEST(HfFolderTest, NeitherWeightsFile) {
  TempDir dir;
  dir.WriteText("config.json", "{}");
  auto f = OpenHfFolder(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kNotFound);
  EXPECT_NE(f.status().message().find("neither model.safetensors nor "
                                      "model.safetensors.index.json found"),
            std::string::npos)
      << f.status().message();
}

TEST(HfFolderTest, CorruptShardReportsTheShard) {
  TempDir dir;
  WriteSharded(dir, kGoodIndex);
  dir.WriteText("model-00002-of-00002.safetensors", "garbage");
  auto f = OpenHfFolder(dir.path());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(f.status().message().find("model-00002-of-00002.safetensors: header length"),
            std::string::npos)
      << f.status().message();
}

}  // namespace
}  // namespace sg
