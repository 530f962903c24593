// The server's log goes through an asynchronous spdlog logger: a call formats the message and
// puts it on a bounded queue (8 192 messages); one background thread writes the queue to stdout.
// A thread that logs (the event dispatcher's request log line, the I/O threads) never waits for
// the terminal or a pipe: when the queue is full because stdout stalls, the oldest queued message
// is dropped and counted (streamgen_log_messages_dropped on /metrics) instead of blocking. The
// engine thread does not log at all.
//
// Thread rules: Start and Stop are called once each, by the thread that runs `serve`, before any
// other thread logs and after they all stopped; LogMessagesDropped may be called from any thread
// in between.
#pragma once

#include <cstdint>

namespace sg::server {

// Replaces spdlog's default logger with the asynchronous one (same name, sink and level). JSON
// output (--json-output) sets TGI's one-object-per-line pattern.
void StartAsyncLogging(bool json_output);

// Writes what is still queued and restores a synchronous stdout logger.
void StopAsyncLogging();

// StartAsyncLogging for the lifetime of a scope; StopAsyncLogging when it ends (every return).
class ScopedAsyncLogging {
 public:
  explicit ScopedAsyncLogging(bool json_output) { StartAsyncLogging(json_output); }
  ~ScopedAsyncLogging() { StopAsyncLogging(); }
  ScopedAsyncLogging(const ScopedAsyncLogging&) = delete;
  ScopedAsyncLogging& operator=(const ScopedAsyncLogging&) = delete;
};

// Messages dropped because the queue was full, since StartAsyncLogging; 0 before it.
int64_t LogMessagesDropped();

}  // namespace sg::server
