// kernel_bench: MatMul speed per weight type at the decode shape (one token: bound by reading the
// weights, so GB/s is compared with the measured memory bandwidth roof) and at a prefill shape
// (64 tokens: compute matters, so GFLOP/s is the figure of merit).
//
// Usage: kernel_bench [--rows N] [--cols N] [--threads N] [--tokens N] [--isa NAME] [--type NAME]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/machine.h"
#include "engine/core/thread_pool.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/peak_flops.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

struct Options {
  int64_t rows = 4096;
  int64_t cols = 4096;
  int64_t prefill_tokens = 64;
  int threads = DefaultThreadCount();
  std::string isa;   // empty: the default choice
  std::string type;  // empty: every supported type
};

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || i + 1 >= argc) return false;
    const char* v = argv[++i];
    if (arg == "--rows") {
      o->rows = std::atoll(v);
    } else if (arg == "--cols") {
      o->cols = std::atoll(v);
    } else if (arg == "--tokens") {
      o->prefill_tokens = std::atoll(v);
    } else if (arg == "--threads") {
      o->threads = std::atoi(v);
    } else if (arg == "--isa") {
      o->isa = v;
    } else if (arg == "--type") {
      o->type = v;
    } else {
      return false;
    }
  }
  return o->rows > 0 && o->cols > 0 && o->prefill_tokens > 0 && o->threads > 0;
}

// Runs fn until at least `min_seconds` have passed (and at least 3 times); returns the best
// seconds per call, which is the least disturbed by the other tenants of the machine.
template <typename Fn>
double BestSeconds(Fn&& fn, double min_seconds = 0.5) {
  fn();  // warm-up: scratch growth, page faults
  double best = 1e30, total = 0.0;
  for (int i = 0; i < 3 || total < min_seconds; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
  }
  return best;
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    std::fprintf(stderr,
                 "usage: kernel_bench [--rows N] [--cols N] [--tokens N] [--threads N] "
                 "[--isa NAME] [--type NAME]\n");
    return 2;
  }
  if (!opt.isa.empty()) {
    const Status s = ForceSimdTarget(opt.isa);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 2;
    }
  }
  ThreadPool pool(opt.threads);
  const double roof = MeasureMemoryBandwidthGBs(pool);
  std::printf("cpu: %s\nthreads: %d  simd: %s%s%s\n", CpuName().c_str(), opt.threads,
              SimdTargetName().c_str(),
              SimdSelectionNote().empty() ? "" : "  note: ", SimdSelectionNote().c_str());
  std::printf("memory read bandwidth (roof for decode): %.1f GB/s\n", roof);
  std::printf("peak f32 FMA throughput (roof for prefill): %.1f GFLOP/s\n",
              MeasurePeakGflops(pool));
  std::printf("weight %lld x %lld\n\n", static_cast<long long>(opt.rows),
              static_cast<long long>(opt.cols));
  std::printf("%-6s %10s | %-28s | %-28s\n", "type", "MiB", "decode (1 token)",
              ("prefill (" + std::to_string(opt.prefill_tokens) + " tokens)").c_str());
  std::printf("%-6s %10s | %8s %8s %9s | %8s %8s %9s\n", "", "", "ms", "GB/s", "GFLOP/s", "ms",
              "GB/s", "GFLOP/s");

  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> wf(static_cast<size_t>(opt.cols));
  std::vector<float> x(static_cast<size_t>(opt.prefill_tokens * opt.cols));
  for (float& v : x) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(opt.prefill_tokens * opt.rows));

  for (DType type : SupportedWeightTypes()) {
    if (!opt.type.empty() && DTypeName(type) != opt.type) continue;
    const QuantTraits* traits = GetQuantTraits(type);
    if (opt.cols % traits->block_elems != 0) continue;
    const uint64_t row_bytes =
        static_cast<uint64_t>(opt.cols / traits->block_elems) * traits->block_bytes;
    std::vector<std::byte> bytes(row_bytes * opt.rows);
    for (int64_t r = 0; r < opt.rows; ++r) {
      for (float& v : wf) v = dist(rng);
      traits->quantize_row(wf.data(), bytes.data() + r * row_bytes, opt.cols);
    }
    TensorView w;
    w.type = type;
    w.shape = {opt.rows, opt.cols};
    w.data = bytes.data();
    w.nbytes = bytes.size();

    const double gb = static_cast<double>(bytes.size()) / 1e9;
    const double flop1 = 2.0 * static_cast<double>(opt.rows) * static_cast<double>(opt.cols);
    const double s1 = BestSeconds([&] { MatMul(w, x.data(), 1, y.data(), pool); });
    const double sp = BestSeconds([&] { MatMul(w, x.data(), opt.prefill_tokens, y.data(), pool); });
    std::printf("%-6s %10.1f | %8.3f %8.1f %9.1f | %8.2f %8.1f %9.1f\n",
                std::string(DTypeName(type)).c_str(), bytes.size() / 1048576.0, s1 * 1e3, gb / s1,
                flop1 / s1 / 1e9, sp * 1e3, gb / sp, flop1 * opt.prefill_tokens / sp / 1e9);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace sg

int main(int argc, char** argv) { return sg::Main(argc, argv); }
