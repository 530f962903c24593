// How fast requests leave the server, for honest backpressure: the rate at which concurrency
// permits are released (requests finished, failed or abandoned per second), smoothed as an
// exponentially weighted moving average, and the Retry-After of a 429 `overloaded` answer derived
// from it. A load balancer or client that waits Retry-After seconds finds a free permit about
// then, instead of hammering a full server or waiting a fixed guess.
//
// The gate counts releases (AdmissionGate::released(), lock-free); this class samples that count
// whenever someone asks (a 429, a /metrics or /info scrape) and folds the rate since the last
// sample into the average, with a time constant of `time_constant` seconds: a sample that covers
// dt seconds weighs 1 - exp(-dt / tau). The first sample is taken as is, so the first minutes of
// a server do not read an artificially low rate. Samples closer than kMinInterval are not taken
// (the average would be noise).
//
// Thread rules: any thread; one small mutex around the average (never held while doing I/O).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace sg::server {

class DrainRate {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kMinInterval{250};
  static constexpr int64_t kMaxRetryAfterSeconds = 60;

  explicit DrainRate(Clock::time_point start, double time_constant_s = 10.0)
      : tau_s_(time_constant_s), last_time_(start) {}

  // Requests per second drained, given the gate's release count now. 0 before any release.
  double Rate(uint64_t released_total, Clock::time_point now);

  // Seconds until `ahead` permits are expected to free: ceil(ahead / rate), within
  // [1, kMaxRetryAfterSeconds]; 1 while nothing has been measured yet (a fresh server).
  int64_t RetryAfterSeconds(uint64_t released_total, Clock::time_point now, int64_t ahead = 1);

 private:
  std::mutex mu_;
  const double tau_s_;
  Clock::time_point last_time_;
  uint64_t last_count_ = 0;
  double rate_ = 0;
  bool measured_ = false;  // a sample with at least one release has been taken
};

}  // namespace sg::server
