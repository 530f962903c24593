#include "server/app/drain_rate.h"

#include <algorithm>
#include <cmath>

namespace sg::server {

double DrainRate::Rate(uint64_t released_total, Clock::time_point now) {
  std::lock_guard lock(mu_);
  const double dt = std::chrono::duration<double>(now - last_time_).count();
  if (dt < std::chrono::duration<double>(kMinInterval).count()) return rate_;
  const double instant = static_cast<double>(released_total - last_count_) / dt;
  if (!measured_) {
    // Before the first release the average stays 0 and the window keeps growing from the
    // start, so the first sample that sees releases measures them over the real elapsed time.
    if (released_total == last_count_) return rate_;
    rate_ = instant;
    measured_ = true;
  } else {
    rate_ += (1.0 - std::exp(-dt / tau_s_)) * (instant - rate_);
  }
  last_time_ = now;
  last_count_ = released_total;
  return rate_;
}

int64_t DrainRate::RetryAfterSeconds(uint64_t released_total, Clock::time_point now,
                                     int64_t ahead) {
  const double rate = Rate(released_total, now);
  if (rate <= 0) {
    std::lock_guard lock(mu_);
    return measured_ ? kMaxRetryAfterSeconds : 1;  // measured and stalled: back off hard
  }
  const double seconds = std::ceil(static_cast<double>(std::max<int64_t>(1, ahead)) / rate);
  return static_cast<int64_t>(std::clamp(seconds, 1.0, static_cast<double>(kMaxRetryAfterSeconds)));
}

}  // namespace sg::server
