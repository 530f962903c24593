// Loading maps weights without reading them: a 135m-shaped F32 GGUF (>= 500 MB) must load with
// resident memory growing by less than 5% of the file size.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>

#include "engine/model/model.h"
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
}

}  // namespace
}  // namespace sg
