#!/usr/bin/env bash
# Configures a sanitizer build directory, the same way for every script that uses it (so a second
# configure is a no-op, not a rebuild). Clang compiles these -O0 builds about twice as fast as GCC.
#   scripts/configure_sanitized.sh asan [DIR]   ASan+UBSan, plus the libFuzzer targets (build-asan)
#   scripts/configure_sanitized.sh tsan [DIR]   ThreadSanitizer (build-tsan)
set -euo pipefail
cd "$(dirname "$0")/.."
kind=$1
case "$kind" in
  asan) dir=${2:-build-asan}; options=(-DSTREAMGEN_SANITIZE=ON -DSTREAMGEN_FUZZ=ON) ;;
  tsan) dir=${2:-build-tsan}; options=(-DSTREAMGEN_TSAN=ON) ;;
  *) echo "usage: $0 asan|tsan [DIR]" >&2; exit 2 ;;
esac
if ! command -v clang++ >/dev/null; then
  echo "configure_sanitized: clang++ not found (scripts/setup.sh installs it)" >&2
  exit 1
fi
# A directory configured earlier with another compiler cannot be switched in place.
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang++' "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ "${options[@]}"
