#include "engine/serving/event_dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace sg {
namespace {

GenerationEvent TokenEvent(int32_t id) {
  GenerationEvent e;
  e.token = TokenInfo{};
  e.token->id = id;
  return e;
}

// Events of several requests, published once per "step", arrive complete and each request's in
// order, on a thread other than the producer's.
TEST(EventDispatcher, DeliversEveryEventInOrderOffTheProducerThread) {
  constexpr int kRequests = 5, kSteps = 200;
  std::vector<std::vector<int32_t>> got(kRequests);
  std::atomic<bool> on_producer{false};
  const std::thread::id producer = std::this_thread::get_id();
  EventDispatcher d;
  std::vector<EventDispatcher::CallbackRef> callbacks;
  for (int r = 0; r < kRequests; ++r) {
    callbacks.push_back(std::make_shared<EventTarget>([&, r](GenerationEvent&& e) {
      if (std::this_thread::get_id() == producer) on_producer = true;
      got[r].push_back(e.token->id);
    }));
  }
  for (int step = 0; step < kSteps; ++step) {
    for (int r = 0; r < kRequests; ++r) d.Add(callbacks[r], TokenEvent(step));
    d.Publish();
  }
  d.Stop();
  EXPECT_FALSE(on_producer.load());
  EXPECT_EQ(d.delivered(), static_cast<uint64_t>(kRequests * kSteps));
  for (int r = 0; r < kRequests; ++r) {
    ASSERT_EQ(got[r].size(), static_cast<size_t>(kSteps));
    for (int step = 0; step < kSteps; ++step) EXPECT_EQ(got[r][step], step);
  }
}

// A callback that blocks (a stuck consumer) never blocks the producer: with the ring full,
// Publish returns and the events wait in the open batch (were it to wait for a slot, this test
// would never get past the loop), and all of them arrive once the callback returns.
TEST(EventDispatcher, AFullRingNeverBlocksTheProducer) {
  std::atomic<bool> release{false};
  std::atomic<int> count{0};
  EventDispatcher d;
  auto slow = std::make_shared<EventTarget>([&](GenerationEvent&&) {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ++count;
  });
  for (int step = 0; step < 100; ++step) {
    d.Add(slow, TokenEvent(step));
    d.Publish();
  }
  EXPECT_EQ(count.load(), 0);
  EXPECT_TRUE(d.has_unpublished());  // 100 steps, 64 ring slots, the first batch still running
  release = true;
  d.Stop();
  EXPECT_EQ(count.load(), 100);
}

// A callback's last owner may be the queued delivery: the state that made it is gone first.
TEST(EventDispatcher, KeepsTheCallbackAliveUntilDelivered) {
  std::atomic<int> count{0};
  EventDispatcher d;
  {
    auto cb = std::make_shared<EventTarget>([&](GenerationEvent&&) { ++count; });
    d.Add(cb, TokenEvent(1));
  }  // the producer's reference is gone before the event is published
  d.Publish();
  d.Stop();
  EXPECT_EQ(count.load(), 1);
}

// A cancelled target's queued events are skipped; other targets' are not.
TEST(EventDispatcher, SkipsTheQueuedEventsOfACancelledTarget) {
  std::atomic<int> kept{0}, dropped{0};
  EventDispatcher d;
  auto keep = std::make_shared<EventTarget>([&](GenerationEvent&&) { ++kept; });
  auto drop = std::make_shared<EventTarget>([&](GenerationEvent&&) { ++dropped; });
  for (int i = 0; i < 10; ++i) {
    d.Add(keep, TokenEvent(i));
    d.Add(drop, TokenEvent(i));
  }
  drop->cancelled = true;  // before publication: none of its events may arrive
  d.Publish();
  d.Stop();
  EXPECT_EQ(kept.load(), 10);
  EXPECT_EQ(dropped.load(), 0);
}

// The dispatcher lets go of a callback right after its event, not after the whole batch: the
// server's concurrency permit lives in what the callback holds (the 256-client load test saw 429s
// while finished streams' permits waited for the rest of their step's events).
TEST(EventDispatcher, ReleasesEachCallbackRightAfterItsEvent) {
  EventDispatcher d;
  auto first = std::make_shared<EventTarget>([](GenerationEvent&&) {});
  std::weak_ptr<EventTarget> first_weak = first;
  std::atomic<bool> released_before_second{false};
  auto second = std::make_shared<EventTarget>(
      [&](GenerationEvent&&) { released_before_second = first_weak.expired(); });
  d.Add(first, TokenEvent(1));
  d.Add(second, TokenEvent(2));
  first.reset();  // the engine dropped the finished request
  d.Publish();
  d.Stop();
  EXPECT_TRUE(released_before_second.load());
}

TEST(EventDispatcher, StopWithNothingQueuedAndTwice) {
  EventDispatcher d;
  d.Stop();
  d.Stop();
  EXPECT_EQ(d.delivered(), 0u);
}

}  // namespace
}  // namespace sg
