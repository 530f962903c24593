// Admission control as TGI's router does it (API contract §6.1, §10.22): a counting semaphore of
// max_concurrent_requests permits; TryAcquire never waits — a request that finds none free is
// refused at once with `overloaded`. A permit is held from before validation until the response
// finished or the client went away (the Permit's destructor returns it).
// Thread rules: any thread; lock-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "server/app/drain_rate.h"

namespace sg::server {

class AdmissionGate {
 public:
  explicit AdmissionGate(int64_t max_concurrent) : max_(max_concurrent) {}

  class Permit {
   public:
    explicit Permit(AdmissionGate* gate) : gate_(gate) {}
    ~Permit() {
      gate_->in_use_.fetch_sub(1, std::memory_order_acq_rel);
      gate_->released_.fetch_add(1, std::memory_order_relaxed);
    }
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;

   private:
    AdmissionGate* gate_;
  };

  // A permit, or nullptr when all max_concurrent are held. The gate must outlive its permits.
  std::unique_ptr<Permit> TryAcquire() {
    int64_t cur = in_use_.load(std::memory_order_relaxed);
    while (cur < max_) {
      if (in_use_.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel)) {
        return std::make_unique<Permit>(this);
      }
    }
    return nullptr;
  }

  int64_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int64_t capacity() const { return max_; }
  // Permits returned so far (requests that finished, failed or were abandoned): the drain rate's
  // input (drain_rate.h).
  uint64_t released() const { return released_.load(std::memory_order_relaxed); }
  // Permits released per second (smoothed), and the Retry-After seconds for a 429 `overloaded`
  // answer: when one permit is expected to free (drain_rate.h). Take a small mutex.
  double DrainPerSecond() { return drain_.Rate(released(), DrainRate::Clock::now()); }
  int64_t RetryAfterSeconds() {
    return drain_.RetryAfterSeconds(released(), DrainRate::Clock::now());
  }

 private:
  const int64_t max_;
  std::atomic<int64_t> in_use_{0};
  std::atomic<uint64_t> released_{0};
  DrainRate drain_{DrainRate::Clock::now()};
};

}  // namespace sg::server
