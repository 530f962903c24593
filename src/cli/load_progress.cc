#include "cli/load_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <utility>

#include "engine/model/pack_weights.h"
#include "engine/model/prefault.h"

namespace sg::cli {
namespace {

constexpr uint64_t kDefaultMinBytes = uint64_t{64} << 20;

uint64_t MinBytesForDisplay() {
  const char* env = std::getenv("STREAMGEN_PROGRESS_MIN_MIB");
  if (env == nullptr || *env == '\0') return kDefaultMinBytes;
  char* end = nullptr;
  const unsigned long long mib = std::strtoull(env, &end, 10);
  if (*end != '\0') return kDefaultMinBytes;
  return static_cast<uint64_t>(mib) << 20;
}

// "1.13/2.50 GiB" (both in the unit that suits the total).
std::string Amounts(uint64_t done, uint64_t total) {
  const bool gib = total >= (uint64_t{1} << 30);
  const double unit = gib ? 1073741824.0 : 1048576.0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f/%.2f %s", static_cast<double>(done) / unit,
                static_cast<double>(total) / unit, gib ? "GiB" : "MiB");
  return buf;
}

std::string Speed(uint64_t done, double seconds) {
  if (seconds <= 0) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f MB/s", static_cast<double>(done) / seconds / 1e6);
  return buf;
}

int Percent(uint64_t done, uint64_t total) {
  if (total == 0) return 100;
  return static_cast<int>(static_cast<double>(std::min(done, total)) * 100.0 /
                          static_cast<double>(total));
}

// The file or folder name to show: "shakespeare-q8_0.gguf", "hf" for "models/demo/hf/".
std::string DisplayName(const std::string& path) {
  std::filesystem::path p = std::filesystem::path(path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  const std::string name = p.filename().string();
  return name.empty() ? path : name;
}

}  // namespace

std::string RenderProgressBar(std::string_view name, uint64_t done, uint64_t total, double seconds,
                              int width) {
  const int percent = Percent(done, total);
  const int filled = percent * width / 100;
  std::string out = "loading " + std::string(name) + " [";
  out.append(static_cast<size_t>(filled), '#');
  out.append(static_cast<size_t>(width - filled), '-');
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", percent);
  out += "] ";
  out += pct;
  out += "  " + Amounts(done, total);
  const std::string speed = Speed(done, seconds);
  if (!speed.empty()) out += "  " + speed;
  return out;
}

std::string RenderProgressLine(std::string_view name, uint64_t done, uint64_t total,
                               double seconds) {
  std::string out = "loading " + std::string(name) + ": " + std::to_string(Percent(done, total)) +
                    "% (" + Amounts(done, total);
  const std::string speed = Speed(done, seconds);
  if (!speed.empty()) out += ", " + speed;
  return out + ")";
}

LoadProgress::LoadProgress(std::string name, bool terminal, LogLineFn log_line)
    : name_(std::move(name)),
      terminal_(terminal),
      log_line_(std::move(log_line)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

void LoadProgress::Update(uint64_t done, uint64_t total) {
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const bool last = done >= total;
  if (terminal_) {
    if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    // \r returns to the line start; \x1b[K clears what a longer earlier draw left.
    std::fprintf(stderr, "\r%s\x1b[K%s", RenderProgressBar(name_, done, total, seconds).c_str(),
                 last ? "\n" : "");
    std::fflush(stderr);
  } else {
    const int quarter = total == 0 ? 4 : static_cast<int>(std::min(done, total) * 4 / total);
    if (quarter > last_quarter_) {
      last_quarter_ = quarter;
      if (log_line_) log_line_(RenderProgressLine(name_, done, total, seconds));
    }
  }
  finished_ = last;
}

LoadDisplay DefaultLoadDisplay(bool allow_bar, LogLineFn log_line) {
  LoadDisplay display;
  display.terminal = allow_bar && ::isatty(STDERR_FILENO) == 1;
  display.log_line = std::move(log_line);
  return display;
}

LoadDisplay StderrLoadDisplay() {
  return DefaultLoadDisplay(/*allow_bar=*/true, [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
}

StatusOr<std::unique_ptr<Model>> LoadModelWithProgress(const std::string& path,
                                                       const LoadDisplay& display, bool repack) {
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(path));
  const uint64_t packed = PackedWeightBytes(*model);
  if (repack && FitsInMemory(packed)) {
    Status s;
    if (packed < MinBytesForDisplay()) {
      s = PackWeights(*model, [](uint64_t, uint64_t) {});
    } else {
      LoadProgress progress(DisplayName(path), display.terminal, display.log_line);
      s = PackWeights(*model, [&](uint64_t done, uint64_t all) { progress.Update(done, all); });
    }
    if (s.ok()) return model;
    if (display.log_line) {
      display.log_line("weights stay on the file mapping: " + s.ToString());
    }
  }
  const uint64_t total = MappedBytes(*model);
  if (!FitsInMemory(total)) {
    if (display.log_line) {
      display.log_line("not reading " + path + " ahead: " + std::to_string(total >> 20) +
                       " MiB is more than 90% of available memory; weights are read from disk "
                       "as the model runs");
    }
    return model;
  }
  if (total < MinBytesForDisplay()) {
    PrefaultModel(*model, [](uint64_t, uint64_t) {});
    return model;
  }
  LoadProgress progress(DisplayName(path), display.terminal, display.log_line);
  PrefaultModel(*model, [&](uint64_t done, uint64_t all) { progress.Update(done, all); });
  return model;
}

}  // namespace sg::cli
