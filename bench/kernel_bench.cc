// kernel_bench: MatMul speed per weight type and SIMD target at the decode shape (one token: bound
// by reading the weights, so GB/s is compared with the measured DRAM read bandwidth on 2 MiB pages)
// and at a prefill shape (64 tokens: compute matters, so GFLOP/s is the figure of merit).
// The default matrix is Llama-3.2-1B's feed-forward shape (8192 x 2048); enough copies of it are
// cycled through that they never fit in the last-level cache (as a model's layers do not), and
// they live on 2 MiB pages, as packed model weights do.
//
// Usage: kernel_bench [--rows N] [--cols N] [--threads N] [--tokens N] [--isa NAME|all]
//                     [--type NAME] [--kernels fast|reference] [--cache-resident]
//                     [--plain-rows]
// Weights take the layout a packed model gives them (8-row tiles for Q4_0, Q5_0, Q8_0, Q4_K,
// Q6_K) unless
// --plain-rows; --cache-resident keeps one copy, for the kernels' compute roof.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/huge_buffer.h"
#include "engine/core/machine.h"
#include "engine/core/thread_pool.h"
#include "engine/kernels/matmul.h"
#include "engine/kernels/peak_flops.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/rows8.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

struct Options {
  int64_t rows = 8192;
  int64_t cols = 2048;
  int64_t prefill_tokens = 64;
  int threads = DefaultThreadCount();
  std::string isa = "all";  // a target name, or every compiled target
  std::string type;         // empty: every supported type
  MatMulKernels kernels = MatMulKernels::kFast;
  // One copy only: with a matrix small enough for the caches this times the kernel's arithmetic
  // (its compute roof) instead of DRAM.
  bool cache_resident = false;
  // Weights in the layout a packed model gives them (kRows8 where the type has one) or plain.
  bool plain_rows = false;
};

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (arg == "--cache-resident") {
      o->cache_resident = true;
      continue;
    }
    if (arg == "--plain-rows") {
      o->plain_rows = true;
      continue;
    }
    if (i + 1 >= argc) return false;
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
    } else if (arg == "--kernels") {
      if (std::string_view(v) != "fast" && std::string_view(v) != "reference") return false;
      o->kernels = std::string_view(v) == "fast" ? MatMulKernels::kFast : MatMulKernels::kReference;
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

// One weight matrix in `copies` copies on 2 MiB pages (so decode reads come from DRAM).
struct BenchWeights {
  std::unique_ptr<HugeBuffer> memory;
  std::vector<TensorView> copies;
};

BenchWeights MakeWeights(DType type, const Options& opt, std::mt19937& rng) {
  const QuantTraits* traits = GetQuantTraits(type);
  const uint64_t row_bytes =
      static_cast<uint64_t>(opt.cols / traits->block_elems) * traits->block_bytes;
  const uint64_t bytes = row_bytes * static_cast<uint64_t>(opt.rows);
  // far above any last-level cache, unless the caller asks for cache-resident weights
  const uint64_t at_least = opt.cache_resident ? 0 : uint64_t{512} << 20;
  const uint64_t copies = std::max<uint64_t>(1, (at_least + bytes - 1) / bytes);
  BenchWeights w;
  StatusOr<std::unique_ptr<HugeBuffer>> mem = HugeBuffer::Allocate(bytes * copies);
  if (!mem.ok()) return w;
  w.memory = std::move(*mem);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> wf(static_cast<size_t>(opt.cols));
  for (int64_t r = 0; r < opt.rows; ++r) {
    for (float& v : wf) v = dist(rng);
    traits->quantize_row(wf.data(), w.memory->data() + r * row_bytes, opt.cols);
  }
  WeightLayout layout = WeightLayout::kRows;
  if (!opt.plain_rows && Rows8Eligible(type, w.memory->data(), opt.rows, opt.cols)) {
    std::vector<std::byte> group(static_cast<size_t>(kRows8 * row_bytes));
    for (int64_t g = 0; g < opt.rows; g += kRows8) {
      std::byte* at = w.memory->data() + g * row_bytes;
      PackRows8Group(type, at, opt.cols, group.data());
      std::memcpy(at, group.data(), group.size());
    }
    layout = WeightLayout::kRows8;
  }
  for (uint64_t c = 0; c < copies; ++c) {
    if (c > 0) std::memcpy(w.memory->data() + c * bytes, w.memory->data(), bytes);
    TensorView v;
    v.type = type;
    v.shape = {opt.rows, opt.cols};
    v.data = w.memory->data() + c * bytes;
    v.nbytes = bytes;
    v.layout = layout;
    w.copies.push_back(v);
  }
  return w;
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    std::fprintf(stderr,
                 "usage: kernel_bench [--rows N] [--cols N] [--tokens N] [--threads N] "
                 "[--isa NAME|all] [--type NAME] [--kernels fast|reference] [--cache-resident] "
                 "[--plain-rows]\n");
    return 2;
  }
  std::vector<std::string> isas;
  if (opt.isa == "all") {
    isas = CompiledSimdTargets();
  } else {
    isas.push_back(opt.isa);
  }
  SetMatMulKernels(opt.kernels);
  ThreadPool pool(opt.threads);
  const double roof = MeasureMemoryBandwidthGBs(pool);
  std::printf("cpu: %s\nthreads: %d  kernels: %s\n", CpuName().c_str(), opt.threads,
              opt.kernels == MatMulKernels::kFast ? "fast (integer dots)" : "reference (f32)");
  std::printf("DRAM read bandwidth, 2 MiB pages (roof for decode): %.1f GB/s\n", roof);
  std::printf("peak f32 FMA throughput (roof for prefill): %.1f GFLOP/s\n",
              MeasurePeakGflops(pool));
  std::printf("weight %lld x %lld\n\n", static_cast<long long>(opt.rows),
              static_cast<long long>(opt.cols));
  std::printf(
      "| type | isa | MiB | decode ms | decode GB/s | %% of roof | prefill(%lld) GFLOP/s |\n",
      static_cast<long long>(opt.prefill_tokens));
  std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");

  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(opt.prefill_tokens * opt.cols));
  for (float& v : x) v = dist(rng);
  std::vector<float> y(static_cast<size_t>(opt.prefill_tokens * opt.rows));
  std::vector<std::byte> scratch(
      static_cast<size_t>(MatMulScratchBytes(opt.prefill_tokens, opt.cols)));

  for (DType type : SupportedWeightTypes()) {
    if (!opt.type.empty() && DTypeName(type) != opt.type) continue;
    if (opt.cols % GetQuantTraits(type)->block_elems != 0) continue;
    const BenchWeights w = MakeWeights(type, opt, rng);
    if (w.copies.empty()) {
      std::fprintf(stderr, "%s: cannot allocate the weights\n",
                   std::string(DTypeName(type)).c_str());
      continue;
    }
    for (const std::string& isa : isas) {
      const Status forced = ForceSimdTarget(isa);
      if (!forced.ok()) {
        std::fprintf(stderr, "%s\n", forced.ToString().c_str());
        return 2;
      }
      size_t next = 0;
      auto decode = [&] {  // one token through the next copy: a DRAM read of the whole matrix
        MatMul(w.copies[next], x.data(), 1, y.data(), pool, scratch);
        next = (next + 1) % w.copies.size();
      };
      const double gb = static_cast<double>(w.copies[0].nbytes) / 1e9;
      const double flop1 = 2.0 * static_cast<double>(opt.rows) * static_cast<double>(opt.cols);
      const double s1 = BestSeconds(decode);
      const double sp = BestSeconds(
          [&] { MatMul(w.copies[0], x.data(), opt.prefill_tokens, y.data(), pool, scratch); });
      std::printf("| %s | %s | %.1f | %.3f | %.1f | %.0f%% | %.1f |\n",
                  std::string(DTypeName(type)).c_str(), SimdTargetName().c_str(),
                  static_cast<double>(w.copies[0].nbytes) / 1048576.0, s1 * 1e3, gb / s1,
                  100.0 * gb / s1 / roof, flop1 * opt.prefill_tokens / sp / 1e9);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace sg

int main(int argc, char** argv) { return sg::Main(argc, argv); }
