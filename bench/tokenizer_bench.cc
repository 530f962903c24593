// tokenizer_bench: single-thread Encode throughput (MB/s of UTF-8 input) of the real tokenizers on
// 1 MB of English and 1 MB of mixed-script text, plus one character repeated 10k/30k/100k times,
// whose times must grow about linearly (a quadratic BPE merge loop shows up here first).
// The limit printed beside the result is not memory bandwidth (1 MB sits in cache) but the speed
// of one core merely copying the text and walking its UTF-8 characters: no tokenizer can beat it.
//
// Usage: tokenizer_bench --data DIR [--tokenizers DIR] [--families a,b] [--runs N] [--tsv]
// DIR holds english_1mb.txt and mixed_1mb.txt (bench/data/make_tokenizer_inputs.py writes them;
// bench/run_tokenizer_bench.sh does it all and compares with Hugging Face's tokenizers).
// --tsv prints `family input bytes tokens seconds MB/s` rows, the format of tokenizer_bench_hf.mjs.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_files.h"
#include "engine/core/machine.h"
#include "engine/text/tokenizer.h"

namespace sg {
namespace {

struct Options {
  std::string data_dir;
  std::string tokenizers_dir = STREAMGEN_SHARED_DIR "/refdata/tokenizers";
  std::vector<std::string> families = {"llama3", "qwen3"};
  int runs = 5;
  bool tsv = false;
};

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
  }
  return out;
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--tsv") {
      o->tsv = true;
      continue;
    }
    if (arg == "--help" || arg == "-h" || i + 1 >= argc) return false;
    const char* v = argv[++i];
    if (arg == "--data") {
      o->data_dir = v;
    } else if (arg == "--tokenizers") {
      o->tokenizers_dir = v;
    } else if (arg == "--families") {
      o->families = SplitComma(v);
    } else if (arg == "--runs") {
      o->runs = std::atoi(v);
    } else {
      return false;
    }
  }
  return !o->data_dir.empty() && o->runs > 0 && !o->families.empty();
}

using sg::bench::ReadFile;

std::string Repeat(std::string_view unit, int n) {
  std::string s;
  s.reserve(unit.size() * n);
  for (int i = 0; i < n; ++i) s.append(unit);
  return s;
}

// The list of tokenizer_bench_hf.mjs, in the same order and with the same names.
bool MakeInputs(const std::string& dir, std::vector<std::pair<std::string, std::string>>* out) {
  for (const char* name : {"english_1mb", "mixed_1mb"}) {
    std::string text;
    if (!ReadFile(dir + "/" + name + ".txt", &text)) {
      std::fprintf(stderr, "tokenizer_bench: cannot read %s/%s.txt\n", dir.c_str(), name);
      return false;
    }
    out->emplace_back(name, std::move(text));
  }
  const std::pair<const char*, const char*> chars[] = {
      {"a", "a"}, {"space", " "}, {"e_acute", "\xC3\xA9"}, {"emoji", "\xF0\x9F\x98\x80"}};
  for (const auto& [label, ch] : chars) {
    for (int n : {10000, 30000, 100000}) {
      out->emplace_back(std::string(label) + "_x" + std::to_string(n / 1000) + "k", Repeat(ch, n));
    }
  }
  return true;
}

// Best seconds per call of `runs` timed calls after one warm-up: the least disturbed by the other
// tenants of the machine.
template <typename Fn>
double BestSeconds(Fn&& fn, int runs) {
  fn();
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The floor of any tokenizer: copying the text once, and walking it character by character
// (counting UTF-8 lead bytes, which every pre-tokenizer must at least do). GB/s.
void PrintScanLimits(const std::string& text) {
  std::vector<char> copy(text.size());
  volatile size_t sink = 0;
  const double copy_s = BestSeconds(
      [&] {
        std::memcpy(copy.data(), text.data(), text.size());
        sink = sink + static_cast<unsigned char>(copy[text.size() / 2]);
      },
      50);
  const double walk_s = BestSeconds(
      [&] {
        size_t chars = 0;
        for (const char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        sink = sink + chars;
      },
      50);
  std::printf("one-core limits on the 1 MB English text: memcpy %.1f GB/s, UTF-8 walk %.2f GB/s\n",
              text.size() / copy_s / 1e9, text.size() / walk_s / 1e9);
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    std::fprintf(stderr,
                 "usage: tokenizer_bench --data DIR [--tokenizers DIR] [--families a,b] "
                 "[--runs N] [--tsv]\n");
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> inputs;
  if (!MakeInputs(opt.data_dir, &inputs)) return 1;
  if (!opt.tsv) {
    std::printf("CPU: %s; one thread, best of %d\n", CpuName().c_str(), opt.runs);
    PrintScanLimits(inputs[0].second);
    std::printf("family   input             bytes   tokens       ms      MB/s\n");
  }
  for (const std::string& family : opt.families) {
    const std::string path = opt.tokenizers_dir + "/" + family + "/tokenizer.json";
    auto tok = Tokenizer::Load(path);
    if (!tok.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s: %s\n", path.c_str(),
                   tok.status().ToString().c_str());
      return 1;
    }
    for (const auto& [name, text] : inputs) {
      size_t tokens = 0;
      const double s = BestSeconds(
          [&] { tokens = (*tok)->Encode(text, /*add_special_tokens=*/false).ids.size(); },
          opt.runs);
      const double mbs = text.size() / s / 1e6;
      if (opt.tsv) {
        std::printf("%s\t%s\t%zu\t%zu\t%.6f\t%.3f\n", family.c_str(), name.c_str(), text.size(),
                    tokens, s, mbs);
      } else {
        std::printf("%-8s %-14s %8zu %8zu %8.2f %9.2f\n", family.c_str(), name.c_str(), text.size(),
                    tokens, s * 1e3, mbs);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace sg

int main(int argc, char** argv) { return sg::Main(argc, argv); }
