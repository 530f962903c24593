#!/usr/bin/env bash
# Runs every test suite and prints each runner's summary. Called by `make test` after the build.
#  1. the Release build's CTest suite (unit tests + PyTorch reference comparisons);
#  2. the parser tests rebuilt under ASan+UBSan;
#  3. the libFuzzer targets, each for a bounded time;
#  4. clang-format of every C++ file.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
status=0

echo "== ctest (Release) =="
ctest --test-dir build --output-on-failure -j "$JOBS" || status=1

if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ctest (ASan+UBSan: file parsers) =="
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTREAMGEN_SANITIZE=ON >/dev/null &&
    cmake --build build-asan -j "$JOBS" --target io_tests >/dev/null &&
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" -R '^Gguf|^Safetensors|^HfFolder|^Io' ||
    status=1
fi

if [ "${STREAMGEN_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz (bounded) =="
  scripts/fuzz.sh "${FUZZ_SECONDS:-30}" || status=1
fi

echo "== format =="
scripts/check_format.sh || status=1

echo "== summary: $([ $status -eq 0 ] && echo ALL PASSED || echo FAILURES) =="
exit $status
