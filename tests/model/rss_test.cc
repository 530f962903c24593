// Loading maps weights without reading them: a 135m-shaped F32 GGUF (>= 500 MB) must load with
// resident memory growing by less than 5% of the file size. Packing then copies the weights onto
// 2 MiB pages and releases the mapping's pages: resident memory ends at one copy (<= 1.1 x the
// packed bytes above the pre-load figure), with the same bytes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "engine/model/model.h"
#include "engine/model/pack_weights.h"
#include "test_util.h"

namespace sg {
namespace {

TEST(RssTest, LoadingA135mF32GgufDoesNotReadWeights) {
  test::TempDir dir;
  testmodel::TestModelOptions o;
  o.arch = "llama";
  o.size = "135m";
  o.type = "f32";
  const std::string path = dir.File("135m-f32.gguf");
  Status written = testmodel::WriteTestGguf(o, path);
  ASSERT_TRUE(written.ok()) << written.ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  ASSERT_GE(file_size, 500u * 1000 * 1000);

  const uint64_t before = test::CurrentRssBytes();
  ASSERT_GT(before, 0u);
  StatusOr<std::unique_ptr<Model>> m = LoadModel(path);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const uint64_t after = test::CurrentRssBytes();
  const int64_t growth = static_cast<int64_t>(after) - static_cast<int64_t>(before);
  std::printf("file %.1f MB, RSS before %.1f MB, after %.1f MB, growth %.2f MB (%.3f%% of file)\n",
              file_size / 1e6, before / 1e6, after / 1e6, growth / 1e6,
              100.0 * static_cast<double>(growth) / static_cast<double>(file_size));
  EXPECT_LT(growth, static_cast<int64_t>(file_size / 20));
  EXPECT_EQ((*m)->config.num_layers, 30);
  EXPECT_TRUE((*m)->config.tied_embeddings);
  EXPECT_EQ((*m)->weights.token_embedding.shape, (std::vector<int64_t>{49152, 576}));

  Model& model = **m;
  const uint64_t packed = PackedWeightBytes(model);
  const TensorView w_down_file = model.weights.layers[3].w_down;
  ASSERT_TRUE(PackWeights(model, [](uint64_t, uint64_t) {}).ok());
  ASSERT_NE(model.packed_weights, nullptr);
  const TensorView& w_down = model.weights.layers[3].w_down;
  EXPECT_NE(w_down.data, w_down_file.data);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(w_down.data) % 64, 0u);
  EXPECT_EQ(std::memcmp(w_down.data, w_down_file.data, w_down.nbytes), 0);
  EXPECT_EQ(model.weights.output.data, model.weights.token_embedding.data);  // tied: one copy
  const uint64_t packed_rss = test::CurrentRssBytes();
  const int64_t packed_growth = static_cast<int64_t>(packed_rss) - static_cast<int64_t>(before);
  std::printf("packed %.1f MB, RSS after packing %.1f MB (growth %.1f MB = %.3f x packed)\n",
              packed / 1e6, packed_rss / 1e6, packed_growth / 1e6,
              static_cast<double>(packed_growth) / static_cast<double>(packed));
  EXPECT_LE(packed_growth, static_cast<int64_t>(packed * 11 / 10));
  EXPECT_GE(packed_growth, static_cast<int64_t>(packed * 9 / 10));  // the copy is resident
}

}  // namespace
}  // namespace sg
