// TensorStore: name lookup, duplicate refusal, mapping lifetime.
#include "engine/io/tensor_store.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

TEST(IoTensorStoreTest, AddFindAndDuplicate) {
  static const std::byte kBytes[8] = {};
  TensorStore store;
  TensorView v{DType::kF32, {2}, kBytes, 8};
  ASSERT_TRUE(store.Add("w", v, "a.safetensors").ok());
  ASSERT_NE(store.Find("w"), nullptr);
  EXPECT_EQ(store.Find("w")->shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(store.Find("x"), nullptr);
  Status dup = store.Add("w", v, "b.safetensors");
  EXPECT_EQ(dup.code(), StatusCode::kDataLoss);
  EXPECT_EQ(dup.message(), "b.safetensors: duplicate tensor name 'w'");
  EXPECT_EQ(store.all().size(), 1u);
}

TEST(IoTensorStoreTest, KeepsMappingsAlive) {
  const char text[] = "abcd";
  std::weak_ptr<MappedFile> weak;
  TensorStore store;
  {
    auto file = MappedFile::FromBytes("mem", text, 4);
    weak = file;
    store.KeepAlive(file);
  }
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(store.files().size(), 1u);
}

}  // namespace
}  // namespace sg
