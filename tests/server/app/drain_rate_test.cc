// The drain rate and the Retry-After derived from it, on a fake clock.
#include "server/app/drain_rate.h"

#include <gtest/gtest.h>

#include "server/app/admission.h"

namespace sg::server {
namespace drain_rate_test {
namespace {

using Clock = DrainRate::Clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(DrainRate, FreshServerSaysOneSecond) {
  const Clock::time_point t0{};
  DrainRate d(t0);
  EXPECT_EQ(d.Rate(0, t0 + seconds(5)), 0.0);
  EXPECT_EQ(d.RetryAfterSeconds(0, t0 + seconds(6)), 1);
}

TEST(DrainRate, FirstSampleIsTakenAsIsOverTheWholeWait) {
  const Clock::time_point t0{};
  DrainRate d(t0);
  EXPECT_EQ(d.Rate(0, t0 + seconds(3)), 0.0);         // nothing yet: the window keeps its start
  EXPECT_DOUBLE_EQ(d.Rate(8, t0 + seconds(4)), 2.0);  // 8 releases in 4 s
  EXPECT_EQ(d.RetryAfterSeconds(8, t0 + seconds(4)), 1);
}

TEST(DrainRate, AverageFollowsASlowdownAndRetryAfterGrows) {
  const Clock::time_point t0{};
  DrainRate d(t0, /*time_constant_s=*/10);
  uint64_t released = 0;
  Clock::time_point t = t0;
  for (int i = 0; i < 20; ++i) {  // 4 per second for 20 s
    t += seconds(1);
    released += 4;
    d.Rate(released, t);
  }
  EXPECT_NEAR(d.Rate(released, t), 4.0, 1e-9);
  for (int i = 0; i < 30; ++i) {  // then one every 5 s
    t += seconds(5);
    released += 1;
    d.Rate(released, t);
  }
  // 150 s at 0.2/s with tau = 10 s: the average has forgotten the fast phase.
  EXPECT_NEAR(d.Rate(released, t), 0.2, 0.01);
  EXPECT_EQ(d.RetryAfterSeconds(released, t), 5);
  EXPECT_EQ(d.RetryAfterSeconds(released, t, /*ahead=*/3), 15);
}

TEST(DrainRate, StalledServerBacksOffToTheCap) {
  const Clock::time_point t0{};
  DrainRate d(t0, 10);
  d.Rate(10, t0 + seconds(1));
  EXPECT_EQ(d.RetryAfterSeconds(10, t0 + seconds(1)), 1);
  // Nothing released for 10 minutes: the average decays towards 0.
  EXPECT_EQ(d.RetryAfterSeconds(10, t0 + seconds(600)), DrainRate::kMaxRetryAfterSeconds);
}

TEST(DrainRate, SamplesCloserThanTheMinimumIntervalAreIgnored) {
  const Clock::time_point t0{};
  DrainRate d(t0);
  EXPECT_DOUBLE_EQ(d.Rate(2, t0 + seconds(1)), 2.0);
  EXPECT_DOUBLE_EQ(d.Rate(1000, t0 + seconds(1) + milliseconds(10)), 2.0);
}

TEST(AdmissionGate, CountsReleasedPermits) {
  AdmissionGate gate(2);
  {
    auto a = gate.TryAcquire();
    auto b = gate.TryAcquire();
    EXPECT_EQ(gate.TryAcquire(), nullptr);
    EXPECT_EQ(gate.released(), 0u);
  }
  EXPECT_EQ(gate.released(), 2u);
  EXPECT_EQ(gate.in_use(), 0);
}

}  // namespace
}  // namespace drain_rate_test
}  // namespace sg::server
