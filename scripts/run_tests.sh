#!/usr/bin/env bash
# Runs every test suite and prints each runner's summary. Called by `make test` after the build.
#  1. the Release build's CTest suite (unit tests + PyTorch reference comparisons);
#  2. the file-parser, model-loading and runtime tests rebuilt under ASan+UBSan, and the
#     multi-threaded ones (kernels, runtime) under TSan;
#  3. the end-to-end suite: a real `streamgen serve` driven by npm clients (@huggingface/inference
#     4.x and 2.x), curl and raw sockets (bad input, HTTP abuse, SIGTERM with streams in flight),
#     plus the bounded load test; again under ASan+UBSan;
#  4. the libFuzzer targets, each for a bounded time;
#  5. clang-format of every C++ file.
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
status=0

# Wall time per phase, printed in the summary (so the CI budget can be watched phase by phase).
timings=""
phase_name=""
phase_start=$SECONDS
phase() {
  [ -n "$phase_name" ] && timings+="$(printf '%5ds  %s' $((SECONDS - phase_start)) "$phase_name")"$'\n'
  phase_name=$1
  phase_start=$SECONDS
  [ -n "$1" ] && echo "== $1 =="
}

phase "ctest (Release)"
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
  phase "ctest (ASan+UBSan: file parsers, model loading, runtime, tokenizers, HTTP)"
  sanitized_suite build-asan STREAMGEN_SANITIZE io_tests model_tests runtime_tests \
    tokenizer_abuse_tests detokenizer_tests sampling_tests scheduler_tests serving_tests \
    http_tests cli_tests || status=1
  phase "ctest (TSan: thread pool, kernels, runtime, scheduler, engine, HTTP server)"
  sanitized_suite build-tsan STREAMGEN_TSAN kernels_tests runtime_tests scheduler_tests \
    serving_tests http_tests || status=1
fi

phase "end-to-end (node --test, real npm clients against streamgen serve)"
if (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  (cd tests/e2e && node --test --test-concurrency=1 --test-reporter=spec \
      clients.test.mjs abuse.test.mjs http_abuse.test.mjs shutdown.test.mjs load.test.mjs) ||
    status=1
  if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
    phase "end-to-end under ASan+UBSan (streamgen serve built in build-asan)"
    if cmake --build build-asan -j "$JOBS" --target streamgen >build-asan.serve.log 2>&1; then
      (cd tests/e2e && STREAMGEN_BIN=../../build-asan/src/cli/streamgen \
          node --test --test-concurrency=1 --test-reporter=spec clients.test.mjs abuse.test.mjs \
          http_abuse.test.mjs shutdown.test.mjs) ||
        status=1
    else
      tail -30 build-asan.serve.log
      status=1
    fi
  fi
else
  echo "npm ci failed"
  status=1
fi

if [ "${STREAMGEN_SKIP_FUZZ:-0}" != 1 ]; then
  phase "fuzz (bounded)"
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || status=1
fi

phase "format"
scripts/check_format.sh || status=1

phase ""
echo "== wall time per phase (s) =="
printf '%s' "$timings"
echo "== summary: $([ $status -eq 0 ] && echo ALL PASSED || echo FAILURES) =="
exit $status
