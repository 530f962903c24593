#include "server/http/resumable_streams.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <random>

namespace sg::http {

// One stream. Every member is guarded by the registry's mutex.
struct ResumableEntry {
  std::string id;     // 32 hex digits
  std::string route;  // a reconnect must come to the same path
  // Payloads of events 1 .. next_seq - 1 while the entry is resumable (in the registry's map);
  // event n is events[n - 1]. Emptied once it is not.
  std::deque<std::string> events;
  size_t bytes = 0;  // what events cost (payloads + kEventOverheadBytes each)
  uint64_t next_seq = 1;
  std::shared_ptr<SseStream> client;  // the attached connection's stream; null when detached
  uint64_t generation = 0;            // attachments so far: a stale detach is ignored
  bool retry_sent = false;            // this attachment's first event carried `retry:`
  bool ended = false;                 // the handler closed it
  bool dropped = false;               // cancelled, expired or aborted: Send fails
  bool resumable = true;              // in the map, with its buffer
  ResumableStreams::Clock::time_point since{};  // detached since; ended at, or last replayed
  std::function<void()> cancel;                 // the request's OnDisconnect
};

namespace {

using Clock = ResumableStreams::Clock;

bool IsDetached(const ResumableEntry& e) {
  return e.resumable && !e.ended && !e.dropped && !e.client;
}

// 128 bits from the kernel's CSPRNG (getrandom blocks only before the pool is first seeded, at
// boot), as 32 lowercase hex digits.
std::string NewStreamId() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    const ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < sizeof(bytes)) {  // no getrandom (old kernel): /dev/urandom through random_device
    std::random_device rd("/dev/urandom");
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(rd());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  id.reserve(32);
  for (unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 15];
  }
  return id;
}

int64_t DeriveRetryMs(const ResumableOptions& o) {
  if (o.retry.count() > 0) return o.retry.count();
  return std::clamp<int64_t>(o.window.count() / 4, 100, 3000);
}

}  // namespace

bool ParseLastEventId(std::string_view text, std::string* stream_id, uint64_t* seq) {
  constexpr size_t kIdDigits = 32;
  if (text.size() < kIdDigits + 2 || text[kIdDigits] != '-') return false;
  for (size_t i = 0; i < kIdDigits; ++i) {
    const char c = text[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  const std::string_view digits = text.substr(kIdDigits + 1);
  if (digits.size() > 18) return false;  // fits uint64 without overflow checks
  uint64_t n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  *stream_id = std::string(text.substr(0, kIdDigits));
  *seq = n;
  return true;
}

// --- ResumableStream.

ResumableStream::ResumableStream(std::shared_ptr<ResumableStreams> registry,
                                 std::shared_ptr<ResumableEntry> e)
    : registry_(std::move(registry)), entry_(std::move(e)) {}

bool ResumableStream::Send(std::string payload) {
  std::lock_guard lock(registry_->mu_);
  return registry_->SendLocked(*entry_, std::move(payload));
}

bool ResumableStream::SendWithId(std::string payload, std::string_view, int64_t) {
  return Send(std::move(payload));  // the registry numbers the events
}

void ResumableStream::Close() {
  std::function<void()> unused;  // destroyed after the lock is released
  std::lock_guard lock(registry_->mu_);
  ResumableEntry& e = *entry_;
  if (e.ended || e.dropped) return;
  registry_->MutateLocked(e, [&] {
    e.ended = true;
    e.since = registry_->now_();
    unused = std::move(e.cancel);
    if (e.client) {
      e.client->Close();
      e.client.reset();
    }
  });
  registry_->WakeLocked();  // a new deadline: the end of the window after the end
  registry_->PublishLocked();
}

void ResumableStream::Abort() {
  std::function<void()> unused;
  std::lock_guard lock(registry_->mu_);
  ResumableEntry& e = *entry_;
  if (e.dropped) return;
  registry_->MutateLocked(e, [&] {
    e.dropped = true;
    unused = std::move(e.cancel);
    if (e.client) {
      e.client->Abort();
      e.client.reset();
    }
    if (e.resumable) registry_->ForgetLocked(e);
  });
  registry_->PublishLocked();
}

bool ResumableStream::closed() const {
  std::lock_guard lock(registry_->mu_);
  return entry_->ended || entry_->dropped;
}

size_t ResumableStream::pending_bytes() const {
  std::lock_guard lock(registry_->mu_);
  return entry_->client ? entry_->client->pending_bytes() : 0;
}

void ResumableStream::SetCancel(std::function<void()> cancel) {
  {
    std::lock_guard lock(registry_->mu_);
    ResumableEntry& e = *entry_;
    if (e.ended) return;  // nothing left to cancel
    if (!e.dropped) {
      e.cancel = std::move(cancel);
      return;
    }
  }
  if (cancel) cancel();  // dropped before the handler registered: cancel now
}

void ResumableStream::DetachFirst() { registry_->Detach(entry_, 1); }

const std::string& ResumableStream::id() const { return entry_->id; }  // immutable

// --- ResumableStreams.

std::shared_ptr<ResumableStreams> ResumableStreams::Create(const ResumableOptions& options,
                                                           NowFn now) {
  return std::shared_ptr<ResumableStreams>(new ResumableStreams(options, std::move(now)));
}

ResumableStreams::ResumableStreams(const ResumableOptions& options, NowFn now)
    : options_(options),
      now_(now ? std::move(now) : NowFn([] { return Clock::now(); })),
      retry_ms_(DeriveRetryMs(options)) {}

ResumableStreams::~ResumableStreams() { Stop(); }

void ResumableStreams::Start() {
  std::lock_guard lock(mu_);
  if (sweeper_.joinable() || stop_) return;
  sweeper_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      const Clock::time_point next = Sweep(now_());
      lock.lock();
      // Re-checked at least once a second: a deadline computed from the injected clock need not
      // follow the real one.
      const Clock::time_point cap = Clock::now() + std::chrono::seconds(1);
      wake_cv_.wait_until(lock, std::min(next, cap), [this] { return stop_ || wake_; });
      wake_ = false;
    }
  });
}

void ResumableStreams::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  if (!sweeper_.joinable()) return;
  if (sweeper_.get_id() == std::this_thread::get_id()) {
    sweeper_.detach();  // the last owner let go inside a cancel callback
  } else {
    sweeper_.join();
  }
}

void ResumableStreams::WakeLocked() {
  wake_ = true;
  wake_cv_.notify_one();
}

template <typename Fn>
void ResumableStreams::MutateLocked(ResumableEntry& e, Fn fn) {
  const bool before = IsDetached(e);
  fn();
  detached_ += static_cast<int64_t>(IsDetached(e)) - static_cast<int64_t>(before);
}

std::shared_ptr<ResumableStream> ResumableStreams::Open(std::string route, ResponseWriter& writer,
                                                        Headers headers) {
  std::lock_guard lock(mu_);
  if (shutting_down_ || total_bytes_ >= options_.max_total_bytes) return nullptr;
  auto e = std::make_shared<ResumableEntry>();
  do {
    e->id = NewStreamId();
  } while (entries_.count(e->id));  // 2^-128 per pair; checked anyway
  e->route = std::move(route);
  e->generation = 1;
  headers.emplace_back("x-stream-id", e->id);
  e->client = writer.StartSse(std::move(headers));  // posts to the connection: does not block
  entries_.emplace(e->id, e);
  PublishLocked();
  return std::make_shared<ResumableStream>(shared_from_this(), std::move(e));
}

bool ResumableStreams::SendLocked(ResumableEntry& e, std::string payload) {
  if (e.ended || e.dropped) return false;
  const uint64_t seq = e.next_seq++;
  bool buffered = false;
  if (e.resumable) {
    const size_t add = payload.size() + kEventOverheadBytes;
    if (e.bytes + add > options_.max_stream_bytes ||
        total_bytes_ + add > options_.max_total_bytes) {
      MutateLocked(e, [&] { ForgetLocked(e); });
    } else {
      e.events.push_back(payload);
      e.bytes += add;
      total_bytes_ += add;
      buffered = true;
    }
  }
  ForwardLocked(e, seq, buffered ? e.events.back() : payload);
  if (!e.resumable && !e.client) {
    // Over a cap while no client is attached: nobody can get the whole stream any more. The
    // cancel runs on the sweeper: this thread may hold the handler's own lock.
    e.dropped = true;
    if (e.cancel) deferred_cancels_.push_back(std::move(e.cancel));
    WakeLocked();
  }
  PublishLocked();
  return true;
}

void ResumableStreams::ForwardLocked(ResumableEntry& e, uint64_t seq, const std::string& payload) {
  if (!e.client) return;
  const int64_t retry = e.retry_sent ? 0 : retry_ms_;
  e.retry_sent = true;
  // False when the client is gone: its OnDisconnect (Detach) follows.
  e.client->SendWithId(payload, e.id + "-" + std::to_string(seq), retry);
}

void ResumableStreams::ForgetLocked(ResumableEntry& e) {
  if (!e.resumable) return;
  e.resumable = false;
  total_bytes_ -= e.bytes;
  e.bytes = 0;
  std::deque<std::string>().swap(e.events);
  entries_.erase(e.id);
}

void ResumableStreams::Detach(const std::shared_ptr<ResumableEntry>& entry, uint64_t generation) {
  std::function<void()> cancel;
  {
    std::lock_guard lock(mu_);
    ResumableEntry& e = *entry;
    if (e.generation != generation || !e.client) return;  // a newer connection took over
    MutateLocked(e, [&] {
      e.client.reset();
      if (e.ended || e.dropped) return;
      e.since = now_();
      if (!e.resumable || shutting_down_) {  // nobody can resume it: cancel as without the flag
        e.dropped = true;
        ForgetLocked(e);
        cancel = std::move(e.cancel);
      }
    });
    WakeLocked();
    PublishLocked();
  }
  if (cancel) cancel();
}

ResumableStreams::ResumeResult ResumableStreams::Resume(std::string_view route,
                                                        std::string_view last_event_id,
                                                        ResponseWriter& writer) {
  std::string id;
  uint64_t n = 0;
  if (!ParseLastEventId(last_event_id, &id, &n)) return ResumeResult::kMalformed;
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->route != route) return ResumeResult::kNotFound;
  const std::shared_ptr<ResumableEntry> entry = it->second;
  ResumableEntry& e = *entry;
  if (n >= e.next_seq) return ResumeResult::kNotFound;  // an event this stream never sent
  if (e.ended && n + 1 == e.next_seq) return ResumeResult::kNothingLeft;
  MutateLocked(e, [&] {
    // The newest connection wins: the older one is cut (its client sees a broken stream, not an
    // end), and its detach callback is ignored since the generation moved on.
    if (e.client) e.client->Abort();
    const uint64_t generation = ++e.generation;
    e.client = writer.StartSse({{"x-stream-id", e.id}});
    std::weak_ptr<ResumableStreams> weak_self = weak_from_this();
    std::weak_ptr<ResumableEntry> weak_entry = entry;
    writer.OnDisconnect([weak_self, weak_entry, generation] {
      auto self = weak_self.lock();
      auto en = weak_entry.lock();
      if (self && en) self->Detach(en, generation);
    });
    e.retry_sent = false;
    for (uint64_t seq = n + 1; seq < e.next_seq; ++seq) ForwardLocked(e, seq, e.events[seq - 1]);
    if (e.ended) {
      e.client->Close();
      e.client.reset();
      // The window restarts: a client resuming every `retry` ms never outlives the buffer while
      // it catches up over a flaky link.
      e.since = now_();
      WakeLocked();
    }
  });
  ++resumed_;
  PublishLocked();
  return ResumeResult::kResumed;
}

Clock::time_point ResumableStreams::Sweep(Clock::time_point now) {
  std::vector<std::function<void()>> cancels;
  Clock::time_point next = Clock::time_point::max();
  {
    std::lock_guard lock(mu_);
    cancels.swap(deferred_cancels_);
    bool changed = false;
    for (auto it = entries_.begin(); it != entries_.end();) {
      const std::shared_ptr<ResumableEntry> hold = it->second;  // ForgetLocked erases it
      ResumableEntry& e = *hold;
      ++it;
      if (!e.ended && e.client) continue;  // live and attached: no deadline
      const Clock::time_point due = e.since + options_.window;
      if (now < due) {
        next = std::min(next, due);
        continue;
      }
      changed = true;
      MutateLocked(e, [&] {
        if (!e.ended) {  // detached for the whole window: cancel the generation
          e.dropped = true;
          ++expired_;
          if (e.cancel) cancels.push_back(std::move(e.cancel));
        }
        ForgetLocked(e);
      });
    }
    if (changed) PublishLocked();
  }
  RunAll(cancels);
  return next;
}

void ResumableStreams::BeginShutdown() {
  std::vector<std::function<void()>> cancels;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    cancels.swap(deferred_cancels_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      const std::shared_ptr<ResumableEntry> hold = it->second;  // ForgetLocked erases it
      ResumableEntry& e = *hold;
      ++it;
      if (!IsDetached(e)) continue;
      MutateLocked(e, [&] {
        e.dropped = true;
        if (e.cancel) cancels.push_back(std::move(e.cancel));
        ForgetLocked(e);
      });
    }
    PublishLocked();
  }
  RunAll(cancels);
}

ResumableCounts ResumableStreams::counts() const {
  std::lock_guard lock(mu_);
  return {static_cast<int64_t>(entries_.size()), detached_, static_cast<int64_t>(total_bytes_),
          expired_, resumed_};
}

void ResumableStreams::SetObserver(std::function<void(const ResumableCounts&)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
  PublishLocked();
}

void ResumableStreams::PublishLocked() {
  if (!observer_) return;
  observer_({static_cast<int64_t>(entries_.size()), detached_, static_cast<int64_t>(total_bytes_),
             expired_, resumed_});
}

void ResumableStreams::RunAll(std::vector<std::function<void()>>& callbacks) {
  for (auto& cb : callbacks) {
    if (cb) cb();
  }
  callbacks.clear();
}

}  // namespace sg::http
