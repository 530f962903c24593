// The compute pool: a fixed set of worker threads that split one parallel loop at a time.
// Nothing here allocates per call (FunctionRef, not std::function): the decode step uses it.
// Thread rules: Run/ParallelFor are called by ONE owner thread (the engine thread) and block until
// every chunk is done; the owner runs chunk 0 itself. Not a singleton: pass it by reference.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/core/function_ref.h"

namespace sg {

class ThreadPool {
 public:
  // num_threads counts the calling thread: 1 means no workers, all work inline.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(thread_index) once on each of num_threads() threads; returns when all returned.
  void Run(FunctionRef<void(int thread_index)> fn);

  // Splits [0, n) into num_threads() contiguous ranges of whole `grain`s and calls
  // fn(begin, end) for each non-empty one.
  void ParallelFor(int64_t n, FunctionRef<void(int64_t begin, int64_t end)> fn, int64_t grain = 1);

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  const FunctionRef<void(int)>* job_ = nullptr;  // guarded by mu_
  uint64_t generation_ = 0;                      // guarded by mu_
  int pending_ = 0;                              // guarded by mu_
  bool stop_ = false;                            // guarded by mu_
};

// Number of threads to use by default: physical cores as far as the OS tells (online CPUs).
int DefaultThreadCount();

}  // namespace sg
