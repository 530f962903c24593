// Host facts used by the benches: only sanity (the values depend on the machine).
#include "engine/core/machine.h"

#include <gtest/gtest.h>

namespace sg {
namespace {

TEST(MachineTest, CpuNameIsNotEmpty) { EXPECT_FALSE(CpuName().empty()); }

TEST(MachineTest, BandwidthOfASmallBufferIsPositiveAndFinite) {
  ThreadPool pool(2);
  // 16 MiB keeps the test fast; the benches use the 512 MiB default.
  const double gbs = MeasureMemoryBandwidthGBs(pool, size_t{16} << 20, 2);
  EXPECT_GT(gbs, 0.1);
  EXPECT_LT(gbs, 1e5);
}

}  // namespace
}  // namespace sg
