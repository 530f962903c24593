// Resumable SSE streams (`serve --resumable-streams SECONDS`, off by default): every event of a
// generation stream is numbered and kept in memory, so a client whose connection broke reconnects
// with `Last-Event-ID: <stream id>-<n>` and gets exactly the events after n, then the rest live.
//
// The pieces:
//   * ResumableStreams, the registry: stream id -> entry (the events so far, the connection
//     attached now, if any). It is the one place that orders events: a replay and the live events
//     that follow it are queued on the new connection under the registry mutex, so every event
//     reaches a client once, in order, whichever thread sends or reconnects.
//   * ResumableStream, the SseStream a handler gets (through ResumableWriter, resumable_writer.h):
//     Send numbers and buffers the event, then forwards it to the attached connection, if any.
//
// Wire format: each event is `id: <stream id>-<n>\n` (n = 1, 2, ... per stream), then
// `retry: <ms>\n` on the first event a connection carries, then TGI's `data: <payload>\n\n`. The
// stream id is 32 hex digits (128 bits from getrandom), also sent as the response header
// `x-stream-id`, so a client cut before the first event resumes with `<stream id>-0`.
//
// Lifetime of an entry (`window` = the flag's SECONDS):
//   live, attached --client gone--> live, detached --window passes--> cancelled (the request's
//   OnDisconnect callback runs: generation cancelled, KV freed), buffer dropped ("expired");
//   live --handler Close--> finished: kept `window` after the end (or after the last reconnect
//   that replayed it) for late reconnects, then dropped.
//   A reconnect to a stream that is already attached aborts the older connection (newest wins).
//
// Memory: an event costs its payload plus kEventOverheadBytes. A stream whose buffer would pass
// max_stream_bytes, or whose event would push all buffers past max_total_bytes, stops being
// resumable: its buffer is dropped, it goes on live as a plain stream (ids still sent), its id
// answers 404 from then on, and once its client leaves it is cancelled as without the flag. While
// the total is at max_total_bytes, new streams start without resumability (no id lines, no
// x-stream-id header; a disconnect cancels them).
//
// Thread rules: every method may be called from any thread and never blocks on I/O: one mutex
// guards the registry and every entry; connections are only posted to (SseStream calls) under it.
// A request's cancel callback never runs under that mutex, and never on a thread that is inside
// ResumableStream::Send: a cancel that Send decides (a cap passed while detached) is left to the
// sweeper thread (Start) or the next Sweep.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/http/http_server.h"

namespace sg::http {

struct ResumableOptions {
  std::chrono::milliseconds window{60000};  // detached or finished streams are kept this long
  size_t max_stream_bytes = 4u << 20;       // one stream's buffer
  size_t max_total_bytes = 256u << 20;      // all buffers together
  // The `retry:` the first event of each connection carries; 0 = derived from the window
  // (window / 4, clamped to [100 ms, 3 s]), so a client retries well within the window.
  std::chrono::milliseconds retry{0};
};

// Sampled for /metrics after every change.
struct ResumableCounts {
  int64_t streams = 0;   // entries held: live, or finished and within the window
  int64_t detached = 0;  // live entries without a client
  int64_t bytes = 0;     // buffered, overhead included
  int64_t expired = 0;   // cumulative: detached entries cancelled at the window's end
  int64_t resumed = 0;   // cumulative: successful reconnects
};

class ResumableStreams;
struct ResumableEntry;

// The stream a handler writes to. Thread rules: any thread, never blocks.
class ResumableStream : public SseStream {
 public:
  ResumableStream(std::shared_ptr<ResumableStreams> registry, std::shared_ptr<ResumableEntry> e);
  // Numbers and buffers the event, forwards it to the attached client. False once the stream
  // ended or was cancelled.
  bool Send(std::string payload) override;
  bool SendWithId(std::string payload, std::string_view id, int64_t retry_ms) override;
  void Close() override;  // the end: the attached client's response ends; kept `window` more
  void Abort() override;  // drops the stream now (not used by the routes)
  bool closed() const override;
  size_t pending_bytes() const override;

  // The request's cancel callback (its OnDisconnect): runs when the stream is dropped while
  // live (window passed detached, a cap passed detached, shutdown). Runs at once if it was
  // already dropped.
  void SetCancel(std::function<void()> cancel);
  // The connection of the first attachment went away.
  void DetachFirst();
  const std::string& id() const;

 private:
  const std::shared_ptr<ResumableStreams> registry_;
  const std::shared_ptr<ResumableEntry> entry_;
};

class ResumableStreams : public std::enable_shared_from_this<ResumableStreams> {
 public:
  using Clock = std::chrono::steady_clock;
  using NowFn = std::function<Clock::time_point()>;
  static constexpr size_t kEventOverheadBytes = 64;  // per buffered event: deque slot, string

  // `now` is injectable for tests (default: steady_clock::now).
  static std::shared_ptr<ResumableStreams> Create(const ResumableOptions& options,
                                                  NowFn now = nullptr);
  ~ResumableStreams();
  ResumableStreams(const ResumableStreams&) = delete;
  ResumableStreams& operator=(const ResumableStreams&) = delete;

  // Starts the sweeper thread (expiry at the window's end, deferred cancels); Stop joins it.
  // Without it, the owner calls Sweep.
  void Start();
  void Stop();

  // Starts a stream on `writer` (its StartSse is called here, with `headers` plus x-stream-id)
  // for a request of `route`. Null when resumability is refused (all buffers at max_total_bytes,
  // or shutting down): the caller then streams plainly on the same writer.
  std::shared_ptr<ResumableStream> Open(std::string route, ResponseWriter& writer, Headers headers);

  enum class ResumeResult {
    kResumed,      // 200: replay, then live (or the end)
    kNothingLeft,  // 204: the stream finished and the client has every event
    kMalformed,    // 400: not `<32 hex digits>-<decimal>`
    kNotFound,     // 404: unknown, expired, no longer resumable, another route, or n never sent
  };
  // A reconnect with `Last-Event-ID: last_event_id` to `route`: on kResumed the stream is now
  // attached to `writer` (StartSse and OnDisconnect were called); otherwise the caller answers.
  ResumeResult Resume(std::string_view route, std::string_view last_event_id,
                      ResponseWriter& writer);

  // Expires what is due at `now`, runs deferred cancels; returns when the next entry is due
  // (time_point::max() when none). Any thread; the sweeper thread calls it.
  Clock::time_point Sweep(Clock::time_point now);

  // Graceful shutdown: detached streams are cancelled now, streams that detach later at once, and
  // no new stream is resumable (the listener is closed: nobody could come back).
  void BeginShutdown();

  ResumableCounts counts() const;
  // Called with the counts after every change, under the registry mutex (keep it cheap and
  // lock-free, e.g. metric stores).
  void SetObserver(std::function<void(const ResumableCounts&)> observer);

  const ResumableOptions& options() const { return options_; }
  int64_t retry_ms() const { return retry_ms_; }

 private:
  friend class ResumableStream;
  ResumableStreams(const ResumableOptions& options, NowFn now);

  // All under mu_.
  bool SendLocked(ResumableEntry& e, std::string payload);
  void ForwardLocked(ResumableEntry& e, uint64_t seq, const std::string& payload);
  // Out of the map (its id answers 404 from now on), its buffer released.
  void ForgetLocked(ResumableEntry& e);
  // Runs `fn` (a change of `e`), keeping detached_ in step.
  template <typename Fn>
  void MutateLocked(ResumableEntry& e, Fn fn);
  void WakeLocked();
  void PublishLocked();
  // Runs outside mu_.
  void Detach(const std::shared_ptr<ResumableEntry>& e, uint64_t generation);
  static void RunAll(std::vector<std::function<void()>>& callbacks);

  const ResumableOptions options_;
  const NowFn now_;
  const int64_t retry_ms_;

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ResumableEntry>, std::less<>> entries_;  // by stream id
  size_t total_bytes_ = 0;
  int64_t detached_ = 0;
  int64_t expired_ = 0;
  int64_t resumed_ = 0;
  bool shutting_down_ = false;
  std::vector<std::function<void()>> deferred_cancels_;  // decided in Send; run by Sweep
  std::function<void(const ResumableCounts&)> observer_;
  // The sweeper thread.
  std::condition_variable wake_cv_;
  bool wake_ = false;
  bool stop_ = false;
  std::thread sweeper_;
};

// Parses `<32 hex digits>-<decimal>`: false when malformed.
bool ParseLastEventId(std::string_view text, std::string* stream_id, uint64_t* seq);

}  // namespace sg::http
