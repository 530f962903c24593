// PrefaultModel: reads every mapped byte once and reports progress that only grows and ends at
// the total, for a GGUF file and for a Hugging Face folder.
#include "engine/model/prefault.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "engine/model/model.h"
#include "test_util.h"

namespace sg {
namespace {

using test::TempDir;
using test::Tiny;

std::vector<std::pair<uint64_t, uint64_t>> PrefaultSteps(const Model& model, uint64_t step) {
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  PrefaultModel(
      model, [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); }, step);
  return calls;
}

void ExpectProgress(const std::vector<std::pair<uint64_t, uint64_t>>& calls, uint64_t total,
                    uint64_t step) {
  ASSERT_FALSE(calls.empty());
  uint64_t last = 0;
  for (const auto& [done, all] : calls) {
    EXPECT_EQ(all, total);
    EXPECT_GT(done, last);
    EXPECT_LE(done - last, step);
    last = done;
  }
  EXPECT_EQ(last, total);
}

TEST(PrefaultTest, GgufProgressCoversTheFile) {
  TempDir dir;
  ASSERT_TRUE(testmodel::WriteTestGguf(Tiny("llama"), dir.File("m.gguf")).ok());
  StatusOr<std::unique_ptr<Model>> model = LoadModel(dir.File("m.gguf"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const uint64_t total = MappedBytes(**model);
  ASSERT_EQ(total, std::filesystem::file_size(dir.File("m.gguf")));
  const uint64_t page = 4096;
  const auto calls = PrefaultSteps(**model, page);
  EXPECT_EQ(calls.size(), (total + page - 1) / page);
  ExpectProgress(calls, total, page);
}

TEST(PrefaultTest, HfFolderCountsEveryShard) {
  TempDir dir;
  ASSERT_TRUE(testmodel::WriteTestHf(Tiny("qwen2"), dir.File("hf")).ok());
  StatusOr<std::unique_ptr<Model>> model = LoadModel(dir.File("hf"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  uint64_t files = 0;
  for (const auto& file : (*model)->tensors.files()) files += file->size();
  EXPECT_EQ(MappedBytes(**model), files);
  EXPECT_GT(files, 0u);
  ExpectProgress(PrefaultSteps(**model, 8192), files, 8192);
  // A step below a page is rounded up to a page, never a zero-length loop.
  ExpectProgress(PrefaultSteps(**model, 1), files, 1 << 16);
}

TEST(PrefaultTest, FitsInMemory) {
  EXPECT_TRUE(FitsInMemory(0));
  EXPECT_TRUE(FitsInMemory(1 << 20));
  EXPECT_FALSE(FitsInMemory(uint64_t{1} << 60));  // an exabyte: more than any machine has
}

}  // namespace
}  // namespace sg
