// A 30-column bar: '#' for the part done.
#include "cli/bench_serve/progress.h"

#include <algorithm>
#include <utility>

namespace sg::benchserve {
namespace {
constexpr int kBarWidth = 30;
constexpr double kPlainLineEveryS = 5;  // duration mode off a terminal
}  // namespace

Progress::Progress(std::FILE* out, std::string label, size_t total, double duration_s, bool tty)
    : out_(out), label_(std::move(label)), total_(total), duration_s_(duration_s), tty_(tty) {}

std::string Progress::Line(size_t done, size_t failed, double elapsed_s) const {
  double frac = 0;
  if (total_ > 0) {
    frac = static_cast<double>(done) / static_cast<double>(total_);
  } else if (duration_s_ > 0) {
    frac = elapsed_s / duration_s_;
  }
  frac = std::clamp(frac, 0.0, 1.0);
  const int filled = static_cast<int>(frac * kBarWidth + 0.5);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kBarWidth - filled), '.');
  char buf[256];
  if (total_ > 0) {
    std::snprintf(buf, sizeof buf, "%-12s [%s] %zu/%zu requests  %.1f s  failed %zu",
                  label_.c_str(), bar.c_str(), done, total_, elapsed_s, failed);
  } else {
    std::snprintf(buf, sizeof buf, "%-12s [%s] %zu requests  %.1f/%.0f s  failed %zu",
                  label_.c_str(), bar.c_str(), done, elapsed_s, duration_s_, failed);
  }
  return buf;
}

void Progress::Update(size_t done, size_t failed, double elapsed_s) {
  if (tty_) {
    std::fprintf(out_, "\r%s\x1b[K", Line(done, failed, elapsed_s).c_str());
    std::fflush(out_);
    return;
  }
  int step;
  if (total_ > 0) {
    step = static_cast<int>(10 * done / total_);
  } else {
    step = static_cast<int>(elapsed_s / kPlainLineEveryS);
  }
  if (step <= last_step_) return;
  last_step_ = step;
  std::fprintf(out_, "%s\n", Line(done, failed, elapsed_s).c_str());
  std::fflush(out_);
}

void Progress::Finish(size_t done, size_t failed, double elapsed_s) {
  if (tty_) {
    std::fprintf(out_, "\r%s\x1b[K\n", Line(done, failed, elapsed_s).c_str());
  } else if (last_step_ < (total_ > 0 ? 10 : static_cast<int>(elapsed_s / kPlainLineEveryS))) {
    std::fprintf(out_, "%s\n", Line(done, failed, elapsed_s).c_str());
  }
  std::fflush(out_);
}

}  // namespace sg::benchserve
