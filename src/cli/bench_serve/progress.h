// The progress display of a running point, on stderr: one line redrawn in place with '\r' on a
// terminal; off a terminal (CI logs, pipes) a plain line at every 10% step (every 5 s when the
// point runs for a duration) so logs stay short.
// Thread rules: one thread (the benchmark loop's).
#pragma once

#include <cstddef>
#include <cstdio>
#include <string>

namespace sg::benchserve {

class Progress {
 public:
  // total: requests the point will send; 0 when it runs for `duration_s` instead.
  // tty: draw in place (normally isatty(fileno(out))).
  Progress(std::FILE* out, std::string label, size_t total, double duration_s, bool tty);

  // done: requests finished so far; failed: of which not ok; elapsed_s since the point started.
  void Update(size_t done, size_t failed, double elapsed_s);
  // The last state, then a newline (terminal) or a closing line.
  void Finish(size_t done, size_t failed, double elapsed_s);

  // The text of one progress line (no '\r', no newline): exposed for tests.
  std::string Line(size_t done, size_t failed, double elapsed_s) const;

 private:
  std::FILE* out_;
  std::string label_;
  size_t total_;
  double duration_s_;
  bool tty_;
  int last_step_ = -1;  // off a terminal: the last 10% step (or 5 s step) printed
};

}  // namespace sg::benchserve
