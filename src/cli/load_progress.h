// Loading a model from the command line: LoadModel, then reading the weights into memory with a
// progress display. On a terminal (stderr is a TTY) a bar redrawn in place; otherwise plain log
// lines at 25 % steps, so service logs stay readable. Models under 64 MiB load without a display
// (they read in well under a second); STREAMGEN_PROGRESS_MIN_MIB changes that threshold.
// Thread rules: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine/core/status.h"
#include "engine/model/model.h"

namespace sg::cli {

// One line of output that is not the bar (a plain log line); the caller picks the logger.
using LogLineFn = std::function<void(const std::string&)>;

// "loading NAME [#########-----------]  45%  1.13/2.50 GiB  312 MB/s" — `width` is the number of
// cells of the bar; `seconds` is the time since the start (0: no speed shown).
std::string RenderProgressBar(std::string_view name, uint64_t done, uint64_t total, double seconds,
                              int width = 30);

// The plain line for 25 %, 50 %, 75 %, 100 %: "loading NAME: 50% (1.25/2.50 GiB, 312 MB/s)".
std::string RenderProgressLine(std::string_view name, uint64_t done, uint64_t total,
                               double seconds);

// Draws progress for one load. Update() may be called as often as wanted: the bar is redrawn at
// most every 100 ms (and at the end), log lines once per 25 % step.
class LoadProgress {
 public:
  // `terminal`: draw the bar on stderr; otherwise write lines through `log_line`.
  LoadProgress(std::string name, bool terminal, LogLineFn log_line);
  void Update(uint64_t done, uint64_t total);

 private:
  std::string name_;
  bool terminal_;
  LogLineFn log_line_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  int last_quarter_ = 0;  // log lines written so far (1 = the 25 % line)
  bool finished_ = false;
};

struct LoadDisplay {
  bool terminal = false;  // stderr is a TTY and the caller does not want log lines only
  LogLineFn log_line;     // plain lines (progress when not a terminal, and notes)
};

// The display for this process: a terminal if stderr is a TTY (and `allow_bar`), log lines
// through `log_line` otherwise.
LoadDisplay DefaultLoadDisplay(bool allow_bar, LogLineFn log_line);

// A bar on stderr if it is a terminal, otherwise lines on stderr (the CLI's commands but serve).
LoadDisplay StderrLoadDisplay();

// LoadModel(path), then, with progress: `repack` and the weights fit in memory: PackWeights (one
// copy on 2 MiB pages; the file pages are released); otherwise PrefaultModel if the files fit in
// memory (a note through log_line if they do not). Errors are LoadModel's; a packing failure is a
// note and falls back to the mapping.
StatusOr<std::unique_ptr<Model>> LoadModelWithProgress(const std::string& path,
                                                       const LoadDisplay& display,
                                                       bool repack = true);

}  // namespace sg::cli
