// The compute pool: a fixed set of worker threads that split one parallel loop at a time.
// Nothing here allocates per call (FunctionRef, not std::function): the decode step uses it.
//
// Thread rules: Run/ParallelFor are called by ONE owner thread (the engine thread) and block until
// every chunk is done; the owner runs chunk 0 itself. The constructor and destructor run on the
// owner thread too, never during a Run. Not a singleton: pass it by reference.
//
// Why it spins: a decode step issues hundreds of parallel ops of tens of microseconds each, so a
// mutex + condition-variable round trip (a futex wake per worker and a futex sleep for the caller,
// per op) costs a visible share of the step. Here a Run publishes the job with an atomic
// generation counter and the caller and workers spin for it (about kSpinWindow) before they park
// on std::atomic::wait; the owner only makes a notify syscall when a worker is actually parked, so
// back-to-back ops make no syscall at all. The cost: after each op the workers burn their cores
// for up to kSpinWindow waiting for the next one. Spinning only pays on CPUs the pool has to
// itself, so nobody spins (everyone parks at once, like a plain futex pool) when the pool has more
// threads than the process may use CPUs, nor for a while (10 ms to 1 s) after signs that other
// load competes for the CPUs (see BackOffSpinning in the .cc).
//
// Pinning: when the process affinity mask (sched_getaffinity) holds at least num_threads CPUs, each
// worker pins itself to its own CPU of that mask, one per physical core first, then SMT siblings;
// the mask's first CPU (in that order) is left to the owner, which is never pinned (it is the
// engine thread, which the process may share with other work). Set STREAMGEN_PIN=0 to disable it
// (e.g. when two pools share a machine: each pool pins without knowing of the other). Any failure
// leaves the worker unpinned.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "engine/core/function_ref.h"

namespace sg {

class ThreadPool {
 public:
  // How long a waiting thread spins before it parks: longer than the gap between two ops of one
  // decode step, short enough that an idle server gives its cores back almost at once.
  static constexpr std::chrono::microseconds kSpinWindow{150};

  // num_threads counts the calling thread: 1 means no workers, all work inline.
  explicit ThreadPool(int num_threads);
  // Wakes parked workers and joins them.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(thread_index) once on each of num_threads() threads; returns when all returned.
  // fn(0) runs on the calling thread. fn must not throw and must not call back into this pool.
  void Run(FunctionRef<void(int thread_index)> fn);

  // Splits [0, n) into num_threads() contiguous ranges of whole `grain`s and calls
  // fn(begin, end) for each non-empty one; the first range runs on the calling thread.
  void ParallelFor(int64_t n, FunctionRef<void(int64_t begin, int64_t end)> fn, int64_t grain = 1);

 private:
  // Destructive interference size on x86-64 and most Arm cores; a literal because
  // std::hardware_destructive_interference_size in a header draws -Winterference-size from g++.
  static constexpr size_t kCacheLine = 64;

  void WorkerLoop(int index, int pin_cpu);
  // Spins, then parks, until generation_ != seen; returns the new generation.
  uint32_t WaitForGeneration(uint32_t seen);
  // Spins, then parks, until pending_ == 0 (owner thread).
  void WaitForWorkers();
  // Defined in the .cc with the reasons for the back-off; any thread.
  template <typename Done>
  bool SpinUntil(const Done& done, bool timeout_backs_off);
  void BackOffSpinning(int64_t now_ns);

  std::vector<std::thread> workers_;
  // True when num_threads exceeds the CPUs of the affinity mask: nobody spins, all park at once.
  bool oversubscribed_ = false;

  // Owner-written, worker-read. job_ is a plain pointer: it is written before the release bump of
  // generation_ and read after the acquire load that sees the bump, and it is not written again
  // until every worker has released pending_ for this generation.
  alignas(kCacheLine) const FunctionRef<void(int)>* job_ = nullptr;
  // Bumped once per Run (and once by the destructor). 32 bits so std::atomic::wait is a bare
  // futex on Linux; wrap-around is harmless because no worker can fall a whole generation behind.
  std::atomic<uint32_t> generation_{0};
  std::atomic<bool> stop_{false};  // set before the destructor's generation bump

  // Workers parked in generation_.wait: the owner notifies only when this is non-zero.
  alignas(kCacheLine) std::atomic<int> parked_{0};
  // Spinning back-off, any thread, relaxed hints: steady_clock time (ns) before which nobody
  // spins, and the length of the last back-off (ns, 0 before the first).
  std::atomic<int64_t> spin_resume_ns_{0};
  std::atomic<int64_t> spin_backoff_ns_{0};

  // Workers yet to finish the current generation; the last one notifies a parked owner.
  alignas(kCacheLine) std::atomic<int> pending_{0};
  std::atomic<bool> owner_parked_{false};
};

// Number of threads to use by default: the physical cores this process may run on (distinct
// (package, core) pairs of the CPUs in its affinity mask), else the CPUs of the mask, else
// std::thread::hardware_concurrency(), else 1.
int DefaultThreadCount();

}  // namespace sg
