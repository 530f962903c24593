// The resumable-stream registry and writer (server/http/resumable_streams.h, resumable_writer.h)
// with fake connections: numbering and framing fields, replay after n, newest reconnect wins,
// expiry on an injected clock, the caps, the writer's disconnect rules, and a reconnect racing the
// sender on real threads (run under TSan in CI).
#include "server/http/resumable_streams.h"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "server/http/resumable_writer.h"

namespace sg::http {
namespace resumable_test {

using Clock = std::chrono::steady_clock;
using Result = ResumableStreams::ResumeResult;
using std::chrono::milliseconds;

struct Frame {
  std::string id;
  int64_t retry = 0;
  std::string payload;
};

// A connection's stream as the registry sees it: records what was queued on it.
class FakeStream : public SseStream {
 public:
  bool Send(std::string payload) override { return SendWithId(std::move(payload), "", 0); }
  bool SendWithId(std::string payload, std::string_view id, int64_t retry_ms) override {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    frames_.push_back({std::string(id), retry_ms, std::move(payload)});
    return true;
  }
  void Close() override {
    std::lock_guard lock(mu_);
    closed_ = ended_ = true;
  }
  void Abort() override {
    std::lock_guard lock(mu_);
    closed_ = aborted_ = true;
  }
  bool closed() const override {
    std::lock_guard lock(mu_);
    return closed_;
  }
  size_t pending_bytes() const override { return 0; }
  void Cut() {  // the network failed: later events are lost
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  std::vector<Frame> frames() const {
    std::lock_guard lock(mu_);
    return frames_;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  bool aborted() const {
    std::lock_guard lock(mu_);
    return aborted_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Frame> frames_;
  bool closed_ = false, ended_ = false, aborted_ = false;
};

// A connection's writer: StartSse hands out a FakeStream; Disconnect plays the client leaving.
class FakeWriter : public ResponseWriter {
 public:
  void Respond(Response response) override {
    std::lock_guard lock(mu_);
    response_ = std::move(response);
  }
  std::shared_ptr<SseStream> StartSse(Headers extra_headers) override {
    std::lock_guard lock(mu_);
    headers_ = std::move(extra_headers);
    stream_ = std::make_shared<FakeStream>();
    if (gone_) stream_->Cut();
    return stream_;
  }
  void OnDisconnect(std::function<void()> callback) override {
    std::function<void()> now;
    {
      std::lock_guard lock(mu_);
      if (gone_) {
        now = std::move(callback);  // as Connection: the client already left
      } else {
        callback_ = std::move(callback);
      }
    }
    if (now) now();
  }
  void Disconnect() {
    std::function<void()> cb;
    {
      std::lock_guard lock(mu_);
      gone_ = true;
      if (stream_) stream_->Cut();
      cb = std::move(callback_);
    }
    if (cb) cb();
  }
  std::shared_ptr<FakeStream> stream() {
    std::lock_guard lock(mu_);
    return stream_;
  }
  std::string header(const std::string& name) {
    std::lock_guard lock(mu_);
    for (auto& [k, v] : headers_) {
      if (k == name) return v;
    }
    return "";
  }
  std::optional<Response> response() {
    std::lock_guard lock(mu_);
    return response_;
  }

 private:
  std::mutex mu_;
  Headers headers_;
  std::shared_ptr<FakeStream> stream_;
  std::function<void()> callback_;
  std::optional<Response> response_;
  bool gone_ = false;
};

std::string Payload(int i) { return "{\"i\":" + std::to_string(i) + "}"; }

// The first connection's client leaves (ResumableWriter reports it through DetachFirst).
void Leave(FakeWriter& w, ResumableStream& s) {
  w.Disconnect();
  s.DetachFirst();
}

uint64_t SeqOf(const std::string& id) { return std::stoull(id.substr(id.find('-') + 1)); }

class ResumableTest : public ::testing::Test {
 protected:
  void Make(ResumableOptions o = {}) {
    if (o.window == milliseconds(60000)) o.window = milliseconds(1000);
    registry_ = ResumableStreams::Create(o, [this] { return now_; });
  }
  std::shared_ptr<ResumableStream> Open(FakeWriter& w, std::string route = "/generate_stream") {
    return registry_->Open(std::move(route), w, {{"x-compute-type", "cpu"}});
  }
  // A stream that sent event 1, then lost its client; *cancels counts its cancel calls.
  std::shared_ptr<ResumableStream> OpenSendOneAndLeave(FakeWriter& w, int* cancels) {
    auto s = Open(w);
    s->SetCancel([cancels] { ++*cancels; });
    s->Send(Payload(1));
    Leave(w, *s);
    return s;
  }

  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
  std::shared_ptr<ResumableStreams> registry_;
};

TEST_F(ResumableTest, EventsAreNumberedAndTheFirstCarriesRetry) {
  Make();
  FakeWriter w;
  auto s = Open(w);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(w.header("x-compute-type"), "cpu");
  const std::string id = w.header("x-stream-id");
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(s->id(), id);
  for (int i = 1; i <= 3; ++i) EXPECT_TRUE(s->Send(Payload(i)));
  const auto f = w.stream()->frames();
  ASSERT_EQ(f.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(f[i].id, id + "-" + std::to_string(i + 1));
    EXPECT_EQ(f[i].payload, Payload(i + 1));
  }
  EXPECT_EQ(f[0].retry, 250);  // window 1 s / 4
  EXPECT_EQ(f[1].retry, 0);
  // Two streams never share an id.
  FakeWriter w2;
  Open(w2);
  EXPECT_NE(w2.header("x-stream-id"), id);
}

TEST_F(ResumableTest, ReconnectGetsExactlyTheEventsAfterNThenLive) {
  Make();
  FakeWriter w;
  auto s = Open(w);
  const std::string id = s->id();
  for (int i = 1; i <= 5; ++i) s->Send(Payload(i));
  Leave(w, *s);
  EXPECT_EQ(registry_->counts().detached, 1);
  for (int i = 6; i <= 7; ++i) s->Send(Payload(i));  // buffered while detached
  EXPECT_EQ(w.stream()->frames().size(), 5u);

  FakeWriter r;
  ASSERT_EQ(registry_->Resume("/generate_stream", id + "-3", r), Result::kResumed);
  EXPECT_EQ(registry_->counts().detached, 0);
  EXPECT_EQ(registry_->counts().resumed, 1);
  EXPECT_EQ(r.header("x-stream-id"), id);
  s->Send(Payload(8));
  s->Close();
  const auto f = r.stream()->frames();
  ASSERT_EQ(f.size(), 5u);  // 4..8
  for (size_t k = 0; k < f.size(); ++k) {
    EXPECT_EQ(SeqOf(f[k].id), 4 + k);
    EXPECT_EQ(f[k].payload, Payload(static_cast<int>(4 + k)));
  }
  EXPECT_GT(f[0].retry, 0);  // the first event of each connection
  EXPECT_EQ(f[1].retry, 0);
  EXPECT_TRUE(r.stream()->ended());
  EXPECT_FALSE(s->Send(Payload(9)));  // ended
}

TEST_F(ResumableTest, WrongRouteMalformedAndUnsentEventsAreRefused) {
  Make();
  FakeWriter w;
  auto s = Open(w);
  s->Send(Payload(1));
  FakeWriter r;
  EXPECT_EQ(registry_->Resume("/v1/completions", s->id() + "-0", r), Result::kNotFound);
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-2", r), Result::kNotFound);
  EXPECT_EQ(registry_->Resume("/generate_stream", std::string(32, '0') + "-0", r),
            Result::kNotFound);
  for (const char* bad : {"", "abc", "-1", "0-1"}) {
    EXPECT_EQ(registry_->Resume("/generate_stream", bad, r), Result::kMalformed) << bad;
  }
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-x", r), Result::kMalformed);
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-", r), Result::kMalformed);
  std::string upper = s->id();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  if (upper != s->id()) {
    EXPECT_EQ(registry_->Resume("/generate_stream", upper + "-0", r), Result::kMalformed);
  }
  EXPECT_EQ(r.stream(), nullptr);  // nothing was started on the refused writer
  // -0 before any event: everything.
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-0", r), Result::kResumed);
  ASSERT_EQ(r.stream()->frames().size(), 1u);
}

TEST_F(ResumableTest, NewestReconnectWinsAndTheOlderIsCut) {
  Make();
  FakeWriter w;
  auto s = Open(w);
  s->Send(Payload(1));
  FakeWriter a, b;
  ASSERT_EQ(registry_->Resume("/generate_stream", s->id() + "-1", a), Result::kResumed);
  EXPECT_TRUE(w.stream()->aborted());  // the first connection was still attached
  s->Send(Payload(2));
  ASSERT_EQ(registry_->Resume("/generate_stream", s->id() + "-1", b), Result::kResumed);
  EXPECT_TRUE(a.stream()->aborted());
  EXPECT_FALSE(a.stream()->ended());  // cut, not finished
  // The aborted connections' disconnect callbacks are stale: b stays attached.
  a.Disconnect();
  Leave(w, *s);
  EXPECT_EQ(registry_->counts().detached, 0);
  s->Send(Payload(3));
  const auto f = b.stream()->frames();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(SeqOf(f[0].id), 2u);
  EXPECT_EQ(SeqOf(f[1].id), 3u);
  EXPECT_EQ(a.stream()->frames().size(), 1u);  // event 2 only
}

TEST_F(ResumableTest, DetachedStreamIsCancelledWhenTheWindowPasses) {
  Make();
  FakeWriter w;
  int cancels = 0;
  auto s = OpenSendOneAndLeave(w, &cancels);
  now_ += milliseconds(999);
  EXPECT_EQ(registry_->Sweep(now_), now_ + milliseconds(1));
  EXPECT_EQ(cancels, 0);
  EXPECT_GT(registry_->counts().bytes, 0);
  now_ += milliseconds(1);
  EXPECT_EQ(registry_->Sweep(now_), Clock::time_point::max());
  EXPECT_EQ(cancels, 1);
  const ResumableCounts c = registry_->counts();
  EXPECT_EQ(c.streams, 0);
  EXPECT_EQ(c.detached, 0);
  EXPECT_EQ(c.bytes, 0);
  EXPECT_EQ(c.expired, 1);
  EXPECT_TRUE(s->closed());
  EXPECT_FALSE(s->Send(Payload(2)));
  FakeWriter r;
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-0", r), Result::kNotFound);
  // A cancel registered after the expiry runs at once.
  int late = 0;
  s->SetCancel([&] { ++late; });
  EXPECT_EQ(late, 1);
  registry_->Sweep(now_ + std::chrono::hours(1));
  EXPECT_EQ(cancels, 1);
}

TEST_F(ResumableTest, ReattachingStopsTheClockAndFinishedStreamsAreKeptAWindow) {
  Make();
  FakeWriter w;
  int cancels = 0;
  auto s = OpenSendOneAndLeave(w, &cancels);
  now_ += milliseconds(900);
  FakeWriter r;
  ASSERT_EQ(registry_->Resume("/generate_stream", s->id() + "-1", r), Result::kResumed);
  now_ += milliseconds(5000);
  registry_->Sweep(now_);  // attached: no deadline
  EXPECT_EQ(cancels, 0);
  s->Send(Payload(2));
  s->Close();
  EXPECT_EQ(registry_->counts().streams, 1);  // kept for late reconnects
  now_ += milliseconds(500);
  registry_->Sweep(now_);
  FakeWriter late;
  ASSERT_EQ(registry_->Resume("/generate_stream", s->id() + "-1", late), Result::kResumed);
  ASSERT_EQ(late.stream()->frames().size(), 1u);
  EXPECT_TRUE(late.stream()->ended());
  FakeWriter done;
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-2", done), Result::kNothingLeft);
  now_ += milliseconds(999);  // the replay restarted the window
  registry_->Sweep(now_);
  EXPECT_EQ(registry_->counts().streams, 1);
  now_ += milliseconds(1);
  registry_->Sweep(now_);
  EXPECT_EQ(registry_->counts().streams, 0);
  EXPECT_EQ(registry_->counts().bytes, 0);
  EXPECT_EQ(registry_->counts().expired, 0);  // finished, not expired
  EXPECT_EQ(cancels, 0);
  FakeWriter gone;
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-1", gone), Result::kNotFound);
}

TEST_F(ResumableTest, PerStreamCapEndsResumabilityAndCancelsADetachedStreamOnTheSweeper) {
  ResumableOptions o;
  o.max_stream_bytes = 3 * (ResumableStreams::kEventOverheadBytes + 7);
  Make(o);
  FakeWriter w;
  auto s = Open(w);
  int cancels = 0;
  s->SetCancel([&] { ++cancels; });
  for (int i = 1; i <= 3; ++i) s->Send(Payload(i));  // 7 bytes each
  EXPECT_EQ(registry_->counts().bytes, static_cast<int64_t>(o.max_stream_bytes));
  Leave(w, *s);
  s->Send(Payload(4));    // over the cap while detached
  EXPECT_EQ(cancels, 0);  // not on the sending thread
  EXPECT_EQ(registry_->counts().bytes, 0);
  EXPECT_EQ(registry_->counts().streams, 0);
  FakeWriter r;
  EXPECT_EQ(registry_->Resume("/generate_stream", s->id() + "-3", r), Result::kNotFound);
  registry_->Sweep(now_);
  EXPECT_EQ(cancels, 1);
}

TEST_F(ResumableTest, OverCapWhileAttachedGoesOnLiveThenCancelsOnDisconnect) {
  ResumableOptions o;
  o.max_stream_bytes = ResumableStreams::kEventOverheadBytes + 7;
  Make(o);
  FakeWriter w;
  auto s = Open(w);
  int cancels = 0;
  s->SetCancel([&] { ++cancels; });
  s->Send(Payload(1));
  s->Send(Payload(2));  // over: no longer resumable, still live
  ASSERT_EQ(w.stream()->frames().size(), 2u);
  EXPECT_EQ(SeqOf(w.stream()->frames()[1].id), 2u);
  Leave(w, *s);
  EXPECT_EQ(cancels, 1);  // as without the flag
  EXPECT_EQ(registry_->counts().detached, 0);
}

TEST_F(ResumableTest, TotalCapRefusesNewStreamsAndBoundsBuffers) {
  ResumableOptions o;
  o.max_total_bytes = 2 * (ResumableStreams::kEventOverheadBytes + 7);
  Make(o);
  FakeWriter a, b, c;
  auto sa = Open(a);
  auto sb = Open(b);
  sa->Send(Payload(1));
  sb->Send(Payload(2));
  EXPECT_EQ(registry_->counts().bytes, static_cast<int64_t>(o.max_total_bytes));
  EXPECT_EQ(Open(c), nullptr);  // full: the caller streams plainly
  sa->Send(Payload(3));         // would pass the total: sa stops being resumable
  EXPECT_LE(registry_->counts().bytes, static_cast<int64_t>(o.max_total_bytes));
  EXPECT_EQ(registry_->counts().streams, 1);
  FakeWriter r;
  EXPECT_EQ(registry_->Resume("/generate_stream", sa->id() + "-1", r), Result::kNotFound);
  FakeWriter d;
  EXPECT_NE(Open(d), nullptr);  // room again
}

TEST_F(ResumableTest, ShutdownCancelsDetachedStreamsAndLaterDetachesAtOnce) {
  Make();
  FakeWriter a, b;
  auto sa = Open(a);
  auto sb = Open(b);
  int ca = 0, cb = 0;
  sa->SetCancel([&] { ++ca; });
  sb->SetCancel([&] { ++cb; });
  Leave(a, *sa);
  registry_->BeginShutdown();
  EXPECT_EQ(ca, 1);
  EXPECT_EQ(cb, 0);  // attached: it finishes
  Leave(b, *sb);
  EXPECT_EQ(cb, 1);
  FakeWriter c;
  EXPECT_EQ(Open(c), nullptr);
  EXPECT_EQ(registry_->counts().streams, 0);
}

// The writer decorator: the handler's OnDisconnect waits for the window on a resumable stream.
TEST_F(ResumableTest, WriterDefersTheHandlersCancelToTheRegistry) {
  Make();
  auto inner = std::make_shared<FakeWriter>();
  auto w = std::make_shared<ResumableWriter>(registry_, "/v1/chat/completions", inner);
  int cancels = 0;
  w->OnDisconnect([&] { ++cancels; });  // before StartSse, as the chat route does
  auto s = w->StartSse({});
  s->Send(Payload(1));
  inner->Disconnect();
  EXPECT_EQ(cancels, 0);
  EXPECT_EQ(registry_->counts().detached, 1);
  now_ += milliseconds(1000);
  registry_->Sweep(now_);
  EXPECT_EQ(cancels, 1);
}

TEST_F(ResumableTest, WriterCancelsAtOnceWhenTheClientLeftBeforeTheStream) {
  Make();
  auto inner = std::make_shared<FakeWriter>();
  auto w = std::make_shared<ResumableWriter>(registry_, "/v1/chat/completions", inner);
  int cancels = 0;
  w->OnDisconnect([&] { ++cancels; });
  inner->Disconnect();
  EXPECT_EQ(cancels, 1);
  auto s = w->StartSse({});  // plain: no id was ever sent
  EXPECT_EQ(registry_->counts().streams, 0);
  EXPECT_TRUE(s->closed());
  // Late registration after the client left runs at once, once.
  auto inner2 = std::make_shared<FakeWriter>();
  auto w2 = std::make_shared<ResumableWriter>(registry_, "/generate_stream", inner2);
  w2->StartSse({});
  inner2->Disconnect();
  int late = 0;
  w2->OnDisconnect([&] { ++late; });
  EXPECT_EQ(late, 0);  // resumable and detached: the window decides
  now_ += milliseconds(1000);
  registry_->Sweep(now_);
  EXPECT_EQ(late, 1);
}

TEST_F(ResumableTest, ResumeOrWrapAnswersReconnectsAndIgnoresTheHeaderWhenOff) {
  Make();
  Request req;
  req.path = "/generate_stream";
  req.headers = {{"last-event-id", "nonsense"}};
  std::shared_ptr<ResponseWriter> w = std::make_shared<FakeWriter>();
  auto* fake = static_cast<FakeWriter*>(w.get());
  EXPECT_TRUE(ResumeOrWrap(registry_, req, &w));
  ASSERT_TRUE(fake->response());
  EXPECT_EQ(fake->response()->status, 400);
  EXPECT_NE(fake->response()->body.find("\"error_type\":\"invalid_last_event_id\""),
            std::string::npos);
  req.headers = {{"last-event-id", std::string(32, 'a') + "-3"}};
  std::shared_ptr<ResponseWriter> w2 = std::make_shared<FakeWriter>();
  auto* fake2 = static_cast<FakeWriter*>(w2.get());
  EXPECT_TRUE(ResumeOrWrap(registry_, req, &w2));
  EXPECT_EQ(fake2->response()->status, 404);
  EXPECT_NE(fake2->response()->body.find("\"error_type\":\"stream_not_found\""), std::string::npos);
  // Without the flag: untouched.
  std::shared_ptr<ResponseWriter> w3 = std::make_shared<FakeWriter>();
  const ResponseWriter* before = w3.get();
  EXPECT_FALSE(ResumeOrWrap(nullptr, req, &w3));
  EXPECT_EQ(w3.get(), before);
  // A new request: wrapped.
  req.headers.clear();
  EXPECT_FALSE(ResumeOrWrap(registry_, req, &w3));
  EXPECT_NE(w3.get(), before);
}

// A sender thread and a client that cuts its connection at random moments and reconnects (also
// while its previous connection is still attached) on other threads: the client gets every
// event once, in order.
TEST_F(ResumableTest, ReconnectsRacingTheSenderLoseAndDuplicateNothing) {
  Make();
  constexpr int kEvents = 3000;
  FakeWriter first;
  auto s = Open(first);
  first.OnDisconnect([s] { s->DetachFirst(); });  // as ResumableWriter does
  const std::string id = s->id();
  std::thread sender([&] {
    for (int i = 1; i <= kEvents; ++i) {
      s->Send(Payload(i));
      if (i % 64 == 0) std::this_thread::yield();
    }
    s->Close();
  });
  std::vector<uint64_t> got;  // what the client kept, in order
  std::mt19937 rng(7);
  std::vector<std::shared_ptr<FakeWriter>> connections{nullptr};
  std::shared_ptr<FakeStream> current = first.stream();
  FakeWriter* current_writer = &first;
  for (int round = 0; round < 2000; ++round) {
    // What the connection delivered up to the cut: its frames, in order, after `got`.
    const auto frames = current->frames();
    const size_t keep = frames.empty() ? 0 : rng() % (frames.size() + 1);
    for (size_t k = 0; k < keep; ++k) got.push_back(SeqOf(frames[k].id));
    const bool ended = current->ended() && keep == frames.size();
    if (ended) break;
    // Half the time the cut is noticed (detach) before the reconnect; else the reconnect races.
    if (rng() % 2) current_writer->Disconnect();
    auto next = std::make_shared<FakeWriter>();
    const std::string last = id + "-" + std::to_string(got.empty() ? 0 : got.back());
    const Result r = registry_->Resume("/generate_stream", last, *next);
    if (r == Result::kNothingLeft) break;
    ASSERT_EQ(r, Result::kResumed) << last;
    current_writer->Disconnect();  // stale by now: must not detach the new connection
    connections.push_back(next);
    current_writer = next.get();
    current = next->stream();
    std::this_thread::yield();
  }
  sender.join();
  // Drain the last connection.
  if (got.size() < kEvents) {
    for (const Frame& f : current->frames()) got.push_back(SeqOf(f.id));
  }
  ASSERT_EQ(got.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) ASSERT_EQ(got[i], static_cast<uint64_t>(i + 1));
  EXPECT_EQ(registry_->counts().detached, 0);
}

TEST(ResumableParseTest, LastEventIdGrammar) {
  std::string id;
  uint64_t n = 0;
  const std::string hex(32, 'f');
  EXPECT_TRUE(ParseLastEventId(hex + "-0", &id, &n));
  EXPECT_EQ(id, hex);
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(ParseLastEventId(hex + "-123456789", &id, &n));
  EXPECT_EQ(n, 123456789u);
  EXPECT_FALSE(ParseLastEventId(hex + "-", &id, &n));
  EXPECT_FALSE(ParseLastEventId(hex + "-1 ", &id, &n));
  EXPECT_FALSE(ParseLastEventId(hex + "-+1", &id, &n));
  EXPECT_FALSE(ParseLastEventId(hex + "-1234567890123456789", &id, &n));  // 19 digits
  EXPECT_FALSE(ParseLastEventId(hex.substr(1) + "-1", &id, &n));
  EXPECT_FALSE(ParseLastEventId(hex + "0-1", &id, &n));
}

}  // namespace resumable_test
}  // namespace sg::http
