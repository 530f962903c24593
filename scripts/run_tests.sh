#!/usr/bin/env bash
# Runs every test suite and prints each runner's summary. Called by `make test` after the build.
#  1. the Release build's CTest suite (unit tests + PyTorch reference comparisons);
#  2. the file-parser, model-loading and runtime tests rebuilt under ASan+UBSan, and the
#     multi-threaded ones (kernels, runtime) under TSan;
#  3. the libFuzzer targets, each for a bounded time;
#  4. clang-format of every C++ file.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
status=0

echo "== ctest (Release) =="
ctest --test-dir build --output-on-failure -j "$JOBS" || status=1

# Builds only the named test executables in a sanitizer build dir and runs their tests.
#   sanitized_suite DIR CMAKE_OPTION TARGET...
sanitized_suite() {
  local dir=$1 option=$2
  shift 2
  local labels
  labels=$(IFS='|'; echo "$*")
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug "-D$option=ON" >"$dir.configure.log" 2>&1 &&
    cmake --build "$dir" -j "$JOBS" --target "$@" >"$dir.build.log" 2>&1 ||
    { tail -30 "$dir.build.log"; return 1; }
  # RssTest writes and maps a 540 MB file: it measures the Release build only.
  ctest --test-dir "$dir" --output-on-failure -j "$JOBS" -L "^($labels)\$" -E RssTest
}

if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== ctest (ASan+UBSan: file parsers, model loading, runtime, tokenizers) =="
  sanitized_suite build-asan STREAMGEN_SANITIZE io_tests model_tests runtime_tests \
    tokenizer_abuse_tests detokenizer_tests || status=1
  echo "== ctest (TSan: thread pool, kernels, runtime) =="
  sanitized_suite build-tsan STREAMGEN_TSAN kernels_tests runtime_tests || status=1
fi

if [ "${STREAMGEN_SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz (bounded) =="
  scripts/fuzz.sh "${FUZZ_SECONDS:-30}" || status=1
fi

echo "== format =="
scripts/check_format.sh || status=1

echo "== summary: $([ $status -eq 0 ] && echo ALL PASSED || echo FAILURES) =="
exit $status
