#include "engine/core/thread_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace sg {
namespace {

// Tells the core that this is a spin-wait: on x86 `pause` lets the SMT sibling run and avoids the
// memory-order mis-speculation flush when the awaited store lands.
inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr uint32_t kSpinsPerClockRead = 64;
// 64 spins take 1-10 us (pause is 10-140 cycles depending on the core; more under TSan). A gap
// of half a millisecond between two clock reads means the OS took the CPU away from the spinner
// for a scheduler slice; shorter gaps happen on virtual machines (interrupts, steal time) without
// any other load and must not stop spinning.
constexpr int64_t kPreemptedGapNs = 500'000;
// Spinning back-off: the first lasts kMinBackoffNs, each one that follows within kMaxBackoffNs of
// the end of the previous one lasts twice as long as it, up to kMaxBackoffNs. So a passing
// disturbance costs 10 ms of futex-pool speed, and a machine that stays oversubscribed pays for a
// failed attempt to spin about once a second.
constexpr int64_t kMinBackoffNs = 10'000'000;
constexpr int64_t kMaxBackoffNs = 1'000'000'000;

}  // namespace

// Spinning pays only while every thread of the pool has a CPU of its own. When the machine has
// more runnable threads than CPUs it hurts twice: a spinner burns CPU time the thread it waits
// for may need (the scheduler readily puts the owner and a worker on one CPU when the others are
// busy, and then each op costs two whole spin windows), and a thread that never sleeps loses its
// wakeup priority to the other load, so an op may wait a scheduler slice (ms) for it. Measured on
// a busy 2-CPU host with empty ops: always spinning ran 30x slower than the old mutex + condvar
// pool; backing off brings it back to that pool's speed. Two signs of contention start a back-off:
// a spinner finds it was preempted, or the owner's wait for the workers outlasts the spin window
// (a worker that is running finishes a decode-sized chunk well within it; a long imbalanced chunk
// also triggers it, which costs only futex-pool speed for a while).
void ThreadPool::BackOffSpinning(int64_t now) {
  const int64_t resume = spin_resume_ns_.load(std::memory_order_relaxed);
  if (now < resume) return;  // another thread already backed off
  const int64_t last = spin_backoff_ns_.load(std::memory_order_relaxed);
  const int64_t backoff =
      last == 0 || now - resume > kMaxBackoffNs ? kMinBackoffNs : std::min(2 * last, kMaxBackoffNs);
  // Relaxed and racy on purpose: both are hints, a lost update only changes one back-off's length.
  spin_backoff_ns_.store(backoff, std::memory_order_relaxed);
  spin_resume_ns_.store(now + backoff, std::memory_order_relaxed);
}

// Spins until done() returns true (then returns true) or about kSpinWindow has passed or spinning
// is off (then returns done(), and the caller parks). The clock (vDSO, no syscall) is read once
// per 64 spins, and not at all when done() comes true within the first 64, the common case of
// back-to-back ops. Spinning is off in an oversubscribed pool and during a back-off.
template <typename Done>
bool ThreadPool::SpinUntil(const Done& done, bool timeout_backs_off) {
  for (uint32_t i = 0; i < kSpinsPerClockRead; ++i) {
    if (done()) return true;
    CpuRelax();
  }
  if (oversubscribed_) return done();
  int64_t last = NowNs();
  if (last < spin_resume_ns_.load(std::memory_order_relaxed)) return done();
  const int64_t deadline =
      last + std::chrono::duration_cast<std::chrono::nanoseconds>(kSpinWindow).count();
  for (;;) {
    for (uint32_t i = 0; i < kSpinsPerClockRead; ++i) {
      if (done()) return true;
      CpuRelax();
    }
    const int64_t now = NowNs();
    if (now - last > kPreemptedGapNs || (now >= deadline && timeout_backs_off)) {
      BackOffSpinning(now);
      return done();
    }
    if (now >= deadline) return done();
    last = now;
  }
}

namespace {

// The CPUs of this thread's affinity mask, ascending; empty if the OS would not say.
std::vector<int> AffinityCpus() {
  // cpu_set_t holds 1024 CPUs; larger machines make sched_getaffinity fail with EINVAL.
  for (int n = CPU_SETSIZE; n <= (1 << 16); n *= 2) {
    cpu_set_t* set = CPU_ALLOC(n);
    if (set == nullptr) return {};
    const size_t size = CPU_ALLOC_SIZE(n);
    if (sched_getaffinity(0, size, set) == 0) {
      std::vector<int> cpus;
      for (int cpu = 0; cpu < n; ++cpu) {
        if (CPU_ISSET_S(cpu, size, set)) cpus.push_back(cpu);
      }
      CPU_FREE(set);
      return cpus;
    }
    const int error = errno;
    CPU_FREE(set);
    if (error != EINVAL) return {};
  }
  return {};
}

std::optional<int> ReadTopology(int cpu, const char* field) {
  const std::string path =
      "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/" + field;
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return std::nullopt;
  int value;
  const bool ok = std::fscanf(f, "%d", &value) == 1;
  std::fclose(f);
  return ok ? std::optional<int>(value) : std::nullopt;
}

struct CpuOrder {
  // The affinity CPUs, the first CPU of each physical core before any SMT sibling of it.
  std::vector<int> cpus;
  // Distinct physical cores among them; cpus.size() when the topology cannot be read.
  int physical_cores = 0;
};

CpuOrder OrderAffinityCpus() {
  CpuOrder order;
  order.cpus = AffinityCpus();
  order.physical_cores = static_cast<int>(order.cpus.size());
  std::vector<int> firsts, siblings;
  std::set<std::pair<int, int>> cores;  // (physical_package_id, core_id)
  for (int cpu : order.cpus) {
    const std::optional<int> package = ReadTopology(cpu, "physical_package_id");
    const std::optional<int> core = ReadTopology(cpu, "core_id");
    if (!package || !core) return order;  // unknown topology: every CPU counts as a core
    (cores.emplace(*package, *core).second ? firsts : siblings).push_back(cpu);
  }
  order.physical_cores = static_cast<int>(firsts.size());
  firsts.insert(firsts.end(), siblings.begin(), siblings.end());
  order.cpus = std::move(firsts);
  return order;
}

bool PinningEnabled() {
  const char* pin = std::getenv("STREAMGEN_PIN");
  return pin == nullptr || std::strcmp(pin, "0") != 0;
}

// Best effort: on failure the thread keeps the affinity it inherited.
void PinCurrentThread(int cpu) {
  cpu_set_t* set = CPU_ALLOC(cpu + 1);
  if (set == nullptr) return;
  const size_t size = CPU_ALLOC_SIZE(cpu + 1);
  CPU_ZERO_S(size, set);
  CPU_SET_S(cpu, size, set);
  pthread_setaffinity_np(pthread_self(), size, set);
  CPU_FREE(set);
}

}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  const int threads = std::max(1, num_threads);
  if (threads == 1) return;
  const CpuOrder order = OrderAffinityCpus();
  const int available = order.cpus.empty() ? static_cast<int>(std::thread::hardware_concurrency())
                                           : static_cast<int>(order.cpus.size());
  // Set before the workers start: they read it without synchronization of their own.
  oversubscribed_ = available > 0 && threads > available;
  const bool pin = PinningEnabled() && static_cast<int>(order.cpus.size()) >= threads;
  workers_.reserve(threads - 1);
  for (int i = 1; i < threads; ++i) {
    // order.cpus[0] is left to the owner thread (which stays unpinned).
    const int cpu = pin ? order.cpus[i] : -1;
    workers_.emplace_back([this, i, cpu] { WorkerLoop(i, cpu); });
  }
}

ThreadPool::~ThreadPool() {
  if (workers_.empty()) return;
  stop_.store(true, std::memory_order_relaxed);
  // The release half of this bump publishes stop_; the notify is unconditional because shutdown
  // is rare and a worker may be on its way to park.
  generation_.fetch_add(1, std::memory_order_seq_cst);
  generation_.notify_all();
  for (std::thread& t : workers_) t.join();
}

uint32_t ThreadPool::WaitForGeneration(uint32_t seen) {
  uint32_t gen = seen;
  // A timeout here is no sign of contention: the owner may just be busy between two ops.
  if (SpinUntil([&] { return (gen = generation_.load(std::memory_order_acquire)) != seen; },
                /*timeout_backs_off=*/false)) {
    return gen;
  }
  // Dekker with Run(): we announce ourselves (seq_cst) before re-reading generation_, Run bumps
  // generation_ (seq_cst) before reading parked_. So either we see the bump or Run sees us parked
  // and notifies; a wakeup cannot be lost.
  parked_.fetch_add(1, std::memory_order_seq_cst);
  while ((gen = generation_.load(std::memory_order_seq_cst)) == seen) {
    generation_.wait(seen, std::memory_order_acquire);
  }
  parked_.fetch_sub(1, std::memory_order_relaxed);
  return gen;
}

void ThreadPool::WorkerLoop(int index, int pin_cpu) {
  if (pin_cpu >= 0) PinCurrentThread(pin_cpu);
  uint32_t seen = 0;  // generation_ before the first Run: workers start inside the constructor
  for (;;) {
    seen = WaitForGeneration(seen);
    if (stop_.load(std::memory_order_relaxed)) return;  // ordered by the acquire on generation_
    (*job_)(index);
    // Release: the owner's acquire of pending_ == 0 orders our job's writes (and our read of job_)
    // before whatever it does next. seq_cst: the Dekker pair of WaitForWorkers.
    if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
        owner_parked_.load(std::memory_order_seq_cst)) {
      pending_.notify_one();
    }
  }
}

void ThreadPool::WaitForWorkers() {
  // A timeout here is not a sign of contention: the worker may simply have the larger half of a
  // big op (the output projection, a prefill chunk) and finish well after the window. Backing off
  // on it made every later op of the step pay a futex wake (measured: 135M-shape Q4_0 decode at
  // 40 tokens/s instead of ~100 on 2 idle CPUs).
  if (SpinUntil([&] { return pending_.load(std::memory_order_acquire) == 0; },
                /*timeout_backs_off=*/false)) {
    return;
  }
  owner_parked_.store(true, std::memory_order_seq_cst);
  for (int p; (p = pending_.load(std::memory_order_seq_cst)) != 0;) {
    pending_.wait(p, std::memory_order_acquire);
  }
  owner_parked_.store(false, std::memory_order_relaxed);
}

void ThreadPool::Run(FunctionRef<void(int)> fn) {
  if (workers_.empty()) {
    fn(0);
    return;
  }
  job_ = &fn;
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  // Release publishes job_ and pending_; seq_cst for the Dekker pair of WaitForGeneration.
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (parked_.load(std::memory_order_seq_cst) > 0) generation_.notify_all();
  fn(0);
  WaitForWorkers();
}

void ThreadPool::ParallelFor(int64_t n, FunctionRef<void(int64_t, int64_t)> fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t units = (n + grain - 1) / grain;
  const int64_t threads = std::min<int64_t>(num_threads(), units);
  if (threads <= 1) {
    fn(0, n);
    return;
  }
  Run([&](int t) {
    if (t >= threads) return;
    const int64_t u0 = units * t / threads, u1 = units * (t + 1) / threads;
    const int64_t b = u0 * grain, e = std::min(n, u1 * grain);
    if (b < e) fn(b, e);
  });
}

int DefaultThreadCount() {
  const int cores = OrderAffinityCpus().physical_cores;
  if (cores > 0) return cores;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace sg
