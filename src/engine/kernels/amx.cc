// AMX detection: CPUID leaf 7 (AMX-TILE, AMX-INT8), the OS's XCR0 tile state bits, then Linux's
// per-process permission for the 8 KiB of tile data in every thread's saved state.
#include "engine/kernels/amx.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace sg {
namespace {

struct AmxState {
  bool usable = false;
  std::string note;
};

#if defined(__x86_64__) && defined(__linux__)
// Linux's arch_prctl codes (asm/prctl.h) and the tile data state component (XSAVE feature 18).
constexpr int kArchGetXcompPerm = 0x1022;
constexpr int kArchReqXcompPerm = 0x1023;
constexpr int kXfeatureXtileData = 18;

AmxState Probe() {
  AmxState s;
  const char* env = std::getenv("STREAMGEN_AMX");
  if (env != nullptr && std::strcmp(env, "0") == 0) {
    s.note = "STREAMGEN_AMX=0";
    return s;
  }
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) {
    s.note = "no CPUID leaf 7";
    return s;
  }
  const bool tile = (edx >> 24) & 1, int8 = (edx >> 25) & 1;
  const bool avx512bw = (ebx >> 30) & 1;
  if (!tile || !int8 || !avx512bw) {
    s.note = "the CPU has no AMX-INT8";
    return s;
  }
  // XCR0 bits 17 (XTILECFG) and 18 (XTILEDATA): the OS saves tile state on context switches.
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if (((lo >> 17) & 3) != 3) {
    s.note = "the OS does not enable the tile state (XCR0)";
    return s;
  }
  if (syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtileData) != 0) {
    s.note = "Linux refused the tile data permission (arch_prctl)";
    return s;
  }
  unsigned long long perm = 0;
  if (syscall(SYS_arch_prctl, kArchGetXcompPerm, &perm) != 0 ||
      ((perm >> kXfeatureXtileData) & 1) == 0) {
    s.note = "the tile data permission is not granted";
    return s;
  }
  s.usable = true;
  return s;
}
#else
AmxState Probe() { return AmxState{false, "not an x86-64 Linux build"}; }
#endif

const AmxState& State() {
  static const AmxState state = Probe();
  return state;
}

}  // namespace

bool AmxUsable() { return State().usable; }

std::string AmxNote() { return State().note; }

}  // namespace sg
