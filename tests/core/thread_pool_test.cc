// ThreadPool: every index and every element exactly once, the split into whole grains with the
// first range on the caller, no lost wakeup in back-to-back ops or after the workers parked,
// shutdown of parked workers, pinning, and the default thread count. Run under TSan too: the
// checks read plain data the workers wrote, so a missing happens-before shows up there.
#include "engine/core/thread_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sg {
namespace {

// 3 and 7 oversubscribe a 2-CPU host, so the yielding spin path is covered there too.
constexpr int kThreadCounts[] = {1, 2, 3, 7};

// Longer than ThreadPool::kSpinWindow by far: the workers are parked by the end of it.
constexpr std::chrono::milliseconds kPastSpinWindow{50};

// Sets or unsets STREAMGEN_PIN for one scope, restoring what was there.
class ScopedPinEnv {
 public:
  explicit ScopedPinEnv(const char* value) {
    if (const char* old = std::getenv("STREAMGEN_PIN")) old_ = old;
    if (value == nullptr) {
      ::unsetenv("STREAMGEN_PIN");
    } else {
      ::setenv("STREAMGEN_PIN", value, 1);
    }
  }
  ~ScopedPinEnv() {
    if (old_) {
      ::setenv("STREAMGEN_PIN", old_->c_str(), 1);
    } else {
      ::unsetenv("STREAMGEN_PIN");
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST(ThreadPoolTest, NumThreadsCountsTheCaller) {
  EXPECT_EQ(ThreadPool(1).num_threads(), 1);
  EXPECT_EQ(ThreadPool(0).num_threads(), 1);
  EXPECT_EQ(ThreadPool(3).num_threads(), 3);
}

TEST(ThreadPoolTest, RunCallsEveryIndexOnceOnDistinctThreadsWithZeroOnTheCaller) {
  for (int threads : kThreadCounts) {
    SCOPED_TRACE(threads);
    ThreadPool pool(threads);
    for (int rep = 0; rep < 50; ++rep) {
      std::vector<int> calls(threads, 0);  // plain ints: each index writes only its own
      std::vector<std::thread::id> ids(threads);
      pool.Run([&](int t) {
        ++calls[t];
        ids[t] = std::this_thread::get_id();
      });
      for (int t = 0; t < threads; ++t) EXPECT_EQ(calls[t], 1) << "index " << t;
      EXPECT_EQ(ids[0], std::this_thread::get_id());
      EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(),
                static_cast<size_t>(threads));
    }
  }
}

TEST(ThreadPoolTest, ParallelForSplitsIntoContiguousWholeGrainsFirstOnTheCaller) {
  for (int threads : kThreadCounts) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 1000}) {
      for (int64_t grain : {0, 1, 2, 3, 7, 64, 1000, 5000}) {
        SCOPED_TRACE("threads " + std::to_string(threads) + " n " + std::to_string(n) + " grain " +
                     std::to_string(grain));
        std::vector<int> hits(n, 0);
        std::mutex mu;
        std::vector<std::pair<int64_t, int64_t>> ranges;
        std::optional<std::thread::id> first_range_thread;
        pool.ParallelFor(
            n,
            [&](int64_t begin, int64_t end) {
              for (int64_t i = begin; i < end; ++i) ++hits[i];
              std::lock_guard<std::mutex> lock(mu);
              ranges.emplace_back(begin, end);
              if (begin == 0) first_range_thread = std::this_thread::get_id();
            },
            grain);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i], 1) << "element " << i;

        // The expected split: units = whole grains, spread as evenly as integer division allows
        // over min(threads, units) ranges.
        const int64_t g = std::max<int64_t>(1, grain);
        const int64_t units = (n + g - 1) / g;
        const int64_t parts = std::min<int64_t>(threads, units);
        std::vector<std::pair<int64_t, int64_t>> expected;
        for (int64_t t = 0; t < parts; ++t) {
          const int64_t b = units * t / parts * g, e = std::min(n, units * (t + 1) / parts * g);
          if (b < e) expected.emplace_back(b, e);
        }
        std::sort(ranges.begin(), ranges.end());
        EXPECT_EQ(ranges, expected);
        if (n > 0) {
          ASSERT_TRUE(first_range_thread.has_value());
          EXPECT_EQ(*first_range_thread, std::this_thread::get_id());
        }
      }
    }
  }
}

// Back-to-back ops are the case the spin exists for; a lost wakeup would hang here, a missing
// happens-before would show wrong values (and a TSan report).
TEST(ThreadPoolTest, ManyBackToBackTinyOpsAllCompleteWithRightResults) {
  for (int threads : {2, 3}) {
    SCOPED_TRACE(threads);
    ThreadPool pool(threads);
    const int ops = threads == 2 ? 100000 : 20000;
    constexpr int64_t kN = 16;
    std::vector<int64_t> out(kN, -1);
    for (int op = 0; op < ops; ++op) {
      pool.ParallelFor(kN, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) out[i] = op * kN + i;
      });
      for (int64_t i = 0; i < kN; ++i) {
        ASSERT_EQ(out[i], op * kN + i) << "op " << op << " element " << i;
      }
    }
  }
}

TEST(ThreadPoolTest, WakesWorkersThatParkedWhileIdle) {
  for (int threads : {2, 3, 7}) {
    SCOPED_TRACE(threads);
    ThreadPool pool(threads);
    for (int rep = 0; rep < 4; ++rep) {
      std::this_thread::sleep_for(kPastSpinWindow);
      std::vector<int> calls(threads, 0);
      pool.Run([&](int t) { ++calls[t]; });
      EXPECT_EQ(calls, std::vector<int>(threads, 1)) << "rep " << rep;
    }
  }
}

TEST(ThreadPoolTest, DestroysWithParkedOrNeverStartedWorkers) {
  for (int threads : {2, 3, 7}) {
    SCOPED_TRACE(threads);
    {
      ThreadPool pool(threads);
      pool.Run([](int) {});
      std::this_thread::sleep_for(kPastSpinWindow);  // every worker parked
    }
    {
      ThreadPool pool(threads);
      std::this_thread::sleep_for(kPastSpinWindow);  // parked before any job
    }
    for (int i = 0; i < 100; ++i) {
      ThreadPool pool(threads);  // workers may not have started yet
      if (i % 2 == 0) pool.Run([](int) {});
    }
  }
}

TEST(ThreadPoolTest, PinsEachWorkerToItsOwnCpuButNeverTheCaller) {
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  const int cpus = CPU_COUNT(&before);
  if (cpus < 2) GTEST_SKIP() << "one CPU: nothing to pin";
  ScopedPinEnv env(nullptr);
  const int threads = std::min(cpus, 4);
  ThreadPool pool(threads);
  std::vector<cpu_set_t> masks(threads);
  pool.Run([&](int t) { sched_getaffinity(0, sizeof(masks[t]), &masks[t]); });
  EXPECT_TRUE(CPU_EQUAL(&masks[0], &before)) << "the caller's affinity changed";
  std::set<int> pinned_to;
  for (int t = 1; t < threads; ++t) {
    ASSERT_EQ(CPU_COUNT(&masks[t]), 1) << "worker " << t;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &masks[t])) {
        EXPECT_TRUE(CPU_ISSET(cpu, &before)) << "worker " << t << " left the process mask";
        pinned_to.insert(cpu);
      }
    }
  }
  EXPECT_EQ(pinned_to.size(), static_cast<size_t>(threads - 1));
}

TEST(ThreadPoolTest, NoPinningWithPinZeroOrMoreThreadsThanCpus) {
  cpu_set_t before;
  ASSERT_EQ(sched_getaffinity(0, sizeof(before), &before), 0);
  const int cpus = CPU_COUNT(&before);
  for (const auto& [pin_env, threads] :
       {std::pair<const char*, int>{"0", std::max(2, std::min(cpus, 4))},
        std::pair<const char*, int>{nullptr, cpus + 1}}) {
    SCOPED_TRACE(threads);
    ScopedPinEnv env(pin_env);
    ThreadPool pool(threads);
    std::vector<cpu_set_t> masks(threads);
    pool.Run([&](int t) { sched_getaffinity(0, sizeof(masks[t]), &masks[t]); });
    for (int t = 0; t < threads; ++t) EXPECT_TRUE(CPU_EQUAL(&masks[t], &before)) << "thread " << t;
  }
}

TEST(ThreadPoolTest, DefaultThreadCountIsBetweenOneAndHardwareConcurrency) {
  const int n = DefaultThreadCount();
  EXPECT_GE(n, 1);
  const unsigned hc = std::thread::hardware_concurrency();
  if (hc > 0) {
    EXPECT_LE(n, static_cast<int>(hc));
  }
}

}  // namespace
}  // namespace sg
