// Delivers generation events to their callbacks on a thread of its own, so that the engine thread
// only computes. The server's callbacks encode JSON, frame SSE, post to connections (a mutex and
// an allocation each), record metrics and write the request log line; run on the engine thread,
// that work was paid once per generated token inside the step loop.
//
// The engine thread appends a step's events to its open batch (no lock; no allocation once the
// batch vectors have grown) and publishes the batch once per step through a single-producer /
// single-consumer ring of batch vectors: two atomic counters, no mutex, and no system call unless
// the dispatcher thread is asleep (it polls while steps keep coming, and sleeps when idle). The
// dispatcher thread runs the callbacks in publication order, so one request's events stay in order.
// When the ring is full (callbacks slower than steps), the engine keeps appending to its open batch
// and hands it over at a later step: a step never waits for delivery.
//
// Thread rules: Add and Publish are called by ONE producer thread (the engine thread). Stop is
// called by the owner after the producer has stopped; it delivers everything and joins. Callbacks
// run on the dispatcher thread and must not block for long (they may call Engine::Cancel).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "engine/serving/generation.h"

namespace sg {

// One request's receiver of events. `cancelled` is set by the engine thread when it drops the
// request for a cancellation; the dispatcher then skips the request's queued events, so none is
// delivered after the engine let the request go (one already being delivered may finish).
struct EventTarget {
  explicit EventTarget(GenerationCallback f) : fn(std::move(f)) {}
  GenerationCallback fn;
  std::atomic<bool> cancelled{false};
};

class EventDispatcher {
 public:
  using CallbackRef = std::shared_ptr<EventTarget>;

  EventDispatcher();   // starts the dispatcher thread
  ~EventDispatcher();  // Stop()
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  // Producer: queues `event` for `callback` in the open batch.
  void Add(const CallbackRef& callback, GenerationEvent&& event);
  // Producer: hands the open batch to the dispatcher if a ring slot is free; else keeps it open.
  void Publish();
  // Producer: whether events wait in the open batch (the ring was full at the last Publish).
  bool has_unpublished() const { return !open_.empty(); }
  // Owner, after the producer stopped: publishes what is open, delivers everything, joins.
  // Idempotent.
  void Stop();

  // Events handed to callbacks so far, and the dispatcher thread's time in them (any thread).
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t delivery_nanos() const { return delivery_nanos_.load(std::memory_order_relaxed); }

 private:
  struct Delivery {
    CallbackRef callback;
    GenerationEvent event;
  };
  static constexpr uint32_t kSlots = 64;
  // After a batch, the dispatcher polls every kPollInterval for kPollWindow before it sleeps on
  // the futex (which Publish must then wake): an event waits at most ~kPollInterval under load,
  // and an idle server costs no wake-ups. 1 ms, not less: on 2 cores each poll preempts a compute
  // thread, and 64 streams through `serve` reached 76% of `bench --parallel 64` polling every
  // 200 us against 92-112% every 1 ms (bench/serve_parallel.mjs).
  static constexpr std::chrono::microseconds kPollInterval{1000};
  static constexpr std::chrono::milliseconds kPollWindow{
      50};  // steps the dispatcher may fall behind before batching

  void Run();

  std::vector<Delivery> open_;                       // producer only
  std::array<std::vector<Delivery>, kSlots> slots_;  // slot i: owned by the producer while it is
                                                     // free, by the consumer once published
  std::atomic<uint32_t> head_{0};                    // batches published (producer writes, release)
  std::atomic<uint32_t> tail_{0};                    // batches delivered (consumer writes, release)
  std::atomic<uint32_t> wake_{0};      // bumped by Publish (consumer asleep) and Stop; waited on
  std::atomic<bool> sleeping_{false};  // the consumer is about to wait or waiting
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> delivery_nanos_{0};
  std::thread thread_;
};

}  // namespace sg
