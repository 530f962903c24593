// The load progress display: exact bar and line text, 25 % steps for log lines, and
// LoadModelWithProgress's choice of silence for small models.
#include "cli/load_progress.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_util.h"

namespace sg::cli {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

TEST(LoadProgressTest, BarText) {
  EXPECT_EQ(RenderProgressBar("m.gguf", 0, 4 * kGiB, 0, 10),
            "loading m.gguf [----------]   0%  0.00/4.00 GiB");
  EXPECT_EQ(RenderProgressBar("m.gguf", kGiB + kGiB / 2, 4 * kGiB, 2.0, 10),
            "loading m.gguf [###-------]  37%  1.50/4.00 GiB  805 MB/s");
  EXPECT_EQ(RenderProgressBar("hf", 100 * kMiB, 100 * kMiB, 1.0, 4),
            "loading hf [####] 100%  100.00/100.00 MiB  105 MB/s");
  // More done than total (a file that grew) never draws past the end.
  EXPECT_EQ(RenderProgressBar("x", 3 * kMiB, 2 * kMiB, 0, 4),
            "loading x [####] 100%  3.00/2.00 MiB");
}

TEST(LoadProgressTest, LineText) {
  EXPECT_EQ(RenderProgressLine("m.gguf", 2 * kGiB, 8 * kGiB, 4.0),
            "loading m.gguf: 25% (2.00/8.00 GiB, 537 MB/s)");
  EXPECT_EQ(RenderProgressLine("m.gguf", 0, 0, 0), "loading m.gguf: 100% (0.00/0.00 MiB)");
}

TEST(LoadProgressTest, LogLinesAtQuarterSteps) {
  std::vector<std::string> lines;
  LoadProgress progress("m.gguf", /*terminal=*/false,
                        [&](const std::string& line) { lines.push_back(line); });
  for (uint64_t done = 10; done <= 100; done += 10) progress.Update(done * kMiB, 100 * kMiB);
  progress.Update(100 * kMiB, 100 * kMiB);  // after the end: nothing more
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].rfind("loading m.gguf: 30% (30.00/100.00 MiB", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("loading m.gguf: 50% (", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("loading m.gguf: 80% (", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("loading m.gguf: 100% (", 0), 0u) << lines[3];
}

class LoadModelWithProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("tiny.gguf");
    ASSERT_TRUE(testmodel::WriteTestGguf(test::Tiny("llama"), path_).ok());
  }
  void TearDown() override { ::unsetenv("STREAMGEN_PROGRESS_MIN_MIB"); }
  std::vector<std::string> Load() {
    std::vector<std::string> lines;
    LoadDisplay display;
    display.log_line = [&](const std::string& line) { lines.push_back(line); };
    StatusOr<std::unique_ptr<Model>> model = LoadModelWithProgress(path_, display);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    return lines;
  }
  test::TempDir dir_;
  std::string path_;
};

TEST_F(LoadModelWithProgressTest, SmallModelLoadsSilently) { EXPECT_TRUE(Load().empty()); }

TEST_F(LoadModelWithProgressTest, LinesWhenAboveTheThreshold) {
  ::setenv("STREAMGEN_PROGRESS_MIN_MIB", "0", 1);
  const std::vector<std::string> lines = Load();
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("loading tiny.gguf: 100% (", 0), 0u) << lines.back();
}

TEST_F(LoadModelWithProgressTest, ErrorsAreLoadModels) {
  LoadDisplay display;
  StatusOr<std::unique_ptr<Model>> model = LoadModelWithProgress(dir_.File("nope.gguf"), display);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace sg::cli
