// The closed and open loops over StartStreamRequest, and the seeded Poisson schedule.
#include "cli/bench_serve/load_runner.h"

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "cli/bench_serve/progress.h"
#include "cli/bench_serve/workload.h"

namespace sg::benchserve {
namespace {

namespace asio = boost::asio;
constexpr auto kProgressEvery = std::chrono::milliseconds(200);

// Uniform in (0, 1]: the top 53 bits of a 64-bit draw, never 0 (log(0) is -inf).
double UnitOpen(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

// State of a running point; lives on RunPoint's stack while io.run() turns.
struct Loop {
  asio::io_context io;
  const Target* target = nullptr;
  Endpoint endpoint = Endpoint::kGenerateStream;
  const PointSpec* spec = nullptr;
  std::vector<std::string> bodies;  // per workload prompt
  Clock::time_point start;
  size_t sent = 0, done = 0, failed = 0;
  std::vector<RequestResult> results;
  std::unique_ptr<Progress> progress;
  asio::steady_timer progress_timer{io};
  asio::steady_timer arrival_timer{io};
  std::vector<double> arrivals;  // open loop only
  bool stop_sending = false;

  double Elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }

  // Closed loop: may another request be sent now?
  bool MoreToSend() const {
    if (spec->duration_s > 0) return Elapsed() < spec->duration_s;
    return sent < spec->num_requests;
  }

  void Send(std::function<void()> after) {
    const size_t prompt = sent % bodies.size();
    ++sent;
    StreamRequestSpec rs{endpoint, bodies[prompt], spec->timeout, start, prompt};
    StartStreamRequest(io, *target, std::move(rs), [this, after](RequestResult r) {
      ++done;
      if (!r.ok) ++failed;
      results.push_back(std::move(r));
      if (after) after();
      if (done == sent && stop_sending) {
        progress_timer.cancel();
        arrival_timer.cancel();
      }
    });
  }

  void ClientLoop() {
    if (!MoreToSend()) {
      stop_sending = true;
      if (done == sent) progress_timer.cancel();
      return;
    }
    Send([this] { ClientLoop(); });
  }

  void NextArrival(size_t k) {
    if (k >= arrivals.size()) {
      stop_sending = true;
      if (done == sent) progress_timer.cancel();
      return;
    }
    arrival_timer.expires_at(start + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(arrivals[k])));
    arrival_timer.async_wait([this, k](boost::system::error_code ec) {
      if (ec) return;
      Send(nullptr);
      NextArrival(k + 1);
    });
  }

  void Tick() {
    if (progress) progress->Update(done, failed, Elapsed());
    progress_timer.expires_after(kProgressEvery);
    progress_timer.async_wait([this](boost::system::error_code ec) {
      if (!ec) Tick();
    });
  }
};

}  // namespace

std::vector<double> PoissonArrivals(double rate, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> t;
  t.reserve(n);
  double now = 0;
  for (size_t i = 0; i < n; ++i) {
    now += -std::log(UnitOpen(rng)) / rate;
    t.push_back(now);
  }
  return t;
}

std::vector<double> PoissonArrivalsUntil(double rate, double duration_s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> t;
  for (double now = -std::log(UnitOpen(rng)) / rate; now < duration_s;
       now += -std::log(UnitOpen(rng)) / rate) {
    t.push_back(now);
  }
  return t;
}

PointRun RunPoint(const Target& target, Endpoint endpoint, const GenerationParams& params,
                  const Workload& workload, const PointSpec& spec) {
  Loop loop;
  loop.target = &target;
  loop.endpoint = endpoint;
  loop.spec = &spec;
  for (size_t i = 0; i < workload.prompts.size(); ++i) {
    GenerationParams p = params;
    p.seed = params.seed + i;  // sampled runs: a different but reproducible seed per prompt
    loop.bodies.push_back(BuildRequestBody(endpoint, workload.prompts[i], p));
  }
  const bool open_loop = spec.request_rate > 0;
  if (open_loop) {
    loop.arrivals = spec.duration_s > 0
                        ? PoissonArrivalsUntil(spec.request_rate, spec.duration_s, spec.seed)
                        : PoissonArrivals(spec.request_rate, spec.num_requests, spec.seed);
  }
  const size_t total =
      open_loop ? loop.arrivals.size() : (spec.duration_s > 0 ? 0 : spec.num_requests);
  if (spec.progress) {
    loop.progress =
        std::make_unique<Progress>(stderr, PointLabel(spec.concurrency, spec.request_rate), total,
                                   spec.duration_s, spec.progress_tty);
  }
  loop.start = Clock::now();
  if (!loop.bodies.empty()) {
    if (open_loop) {
      loop.NextArrival(0);
    } else {
      for (int c = 0; c < spec.concurrency; ++c) loop.ClientLoop();
    }
  }
  loop.Tick();
  loop.io.run();
  const double elapsed = loop.Elapsed();
  if (loop.progress) loop.progress->Finish(loop.done, loop.failed, elapsed);

  PointRun run;
  run.concurrency = open_loop ? 0 : spec.concurrency;
  run.request_rate = open_loop ? spec.request_rate : 0;
  run.duration_s = elapsed;
  run.results = std::move(loop.results);
  run.prompt_tokens = workload.prompt_tokens;
  return run;
}

}  // namespace sg::benchserve
