// Chooses the SIMD table once: the best Highway target this CPU runs, unless STREAMGEN_ISA names
// another one (or "scalar"). Tests switch targets with ForceSimdTarget().
#include "engine/kernels/simd_dispatch.h"

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <mutex>

#include "engine/kernels/simd_targets.h"

namespace sg {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Looks a target up by case-insensitive name among the runnable ones (scalar included).
const SimdTarget* FindTarget(std::string_view name) {
  static const SimdTarget kScalar{"scalar", ScalarSimdKernels()};
  const std::string want = Lower(name);
  if (want == "scalar") return &kScalar;
  for (const SimdTarget& t : HighwaySimdTargets()) {
    if (Lower(t.name) == want) return &t;
  }
  return nullptr;
}

const SimdTarget& BestTarget() {
  const auto& targets = HighwaySimdTargets();
  return targets.empty() ? *FindTarget("scalar") : targets.front();
}

// Names Highway knows on some CPU, to tell "unsupported here" from "no such target".
bool IsKnownTargetName(const std::string& lower) {
  static const char* const kKnown[] = {"avx3_dl",    "avx3", "avx2", "sse4", "ssse3", "emu128",
                                       "hwy_scalar", "neon", "sve",  "sve2", "rvv",   "wasm"};
  for (const char* k : kKnown) {
    if (lower == k) return true;
  }
  return false;
}

struct Selection {
  std::atomic<const SimdTarget*> target{nullptr};
  std::mutex mu;     // guards note and the first choice
  std::string note;  // why target is not simply the best one
};

Selection& GetSelection() {
  static Selection selection;
  return selection;
}

}  // namespace

const SimdTarget* ChooseSimdTarget(const char* env, std::string* note) {
  note->clear();
  const SimdTarget& best = BestTarget();
  if (env == nullptr || *env == '\0') return &best;
  const std::string want = Lower(env);
  if (want == "best") return &best;
  if (const SimdTarget* t = FindTarget(want)) {
    *note = "STREAMGEN_ISA=" + std::string(env) + " forces " + t->name;
    return t;
  }
  *note = "STREAMGEN_ISA=" + std::string(env) +
          (IsKnownTargetName(want) ? " is not supported by this CPU (or not compiled in)"
                                   : " is not a known target") +
          "; using " + best.name;
  return &best;
}

namespace {

// The table in use; the first call reads STREAMGEN_ISA (once, under the mutex).
const SimdTarget& Selected() {
  Selection& s = GetSelection();
  const SimdTarget* t = s.target.load(std::memory_order_acquire);
  if (t != nullptr) return *t;
  std::lock_guard<std::mutex> lock(s.mu);
  t = s.target.load(std::memory_order_relaxed);
  if (t == nullptr) {
    t = ChooseSimdTarget(std::getenv("STREAMGEN_ISA"), &s.note);
    s.target.store(t, std::memory_order_release);
  }
  return *t;
}

}  // namespace

const SimdKernels& GetSimdKernels() { return Selected().kernels; }

std::string SimdTargetName() { return Selected().name; }

std::string SimdSelectionNote() {
  Selected();
  Selection& s = GetSelection();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.note;
}

std::vector<std::string> CompiledSimdTargets() {
  std::vector<std::string> names;
  for (const SimdTarget& t : HighwaySimdTargets()) names.push_back(t.name);
  names.push_back("scalar");
  return names;
}

Status ForceSimdTarget(std::string_view name) {
  const std::string want = Lower(name);
  const SimdTarget* t = want == "best" ? &BestTarget() : FindTarget(want);
  if (t == nullptr) {
    return InvalidArgumentError("SIMD target '" + std::string(name) +
                                "' is unknown or not supported by this CPU");
  }
  Selected();  // settle the environment's choice first so it cannot override this one later
  Selection& s = GetSelection();
  std::lock_guard<std::mutex> lock(s.mu);
  s.note = want == "best" ? "" : "forced to " + t->name + " by ForceSimdTarget";
  s.target.store(t, std::memory_order_release);
  return OkStatus();
}

}  // namespace sg
