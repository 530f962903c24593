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

# Runs one GoogleTest executable as $JOBS shards in parallel (GTEST_TOTAL_SHARDS), one process
# each: what a process loads once (a 10 MB tokenizer.json takes ~8 s under ASan) is loaded once
# per shard, not once per test as ctest's one-process-per-test would. Prints each shard's
# summary; the whole log of a shard that failed.
#   run_sharded EXECUTABLE GTEST_FILTER
run_sharded() {
  local exe=$1 filter=$2 name pids=() failed=0 i
  name=$(basename "$exe")
  for ((i = 0; i < JOBS; i++)); do
    GTEST_TOTAL_SHARDS=$JOBS GTEST_SHARD_INDEX=$i "$exe" --gtest_filter="$filter" --gtest_brief=1 \
        >"$exe.shard$i.log" 2>&1 &
    pids+=($!)
  done
  for ((i = 0; i < JOBS; i++)); do
    if wait "${pids[$i]}"; then
      echo "$name shard $((i + 1))/$JOBS: $(grep -E '^\[  PASSED  \]' "$exe.shard$i.log" | tail -1)"
    else
      echo "$name shard $((i + 1))/$JOBS: FAILED"
      cat "$exe.shard$i.log"
      failed=1
    fi
  done
  return $failed
}

# Builds only the named targets in a sanitizer build dir with COMPILER (gcc or clang)
# and runs the test executables among them (*_tests).
#   sanitized_suite DIR CMAKE_OPTION COMPILER TARGET...
sanitized_suite() {
  local dir=$1 option=$2 cc=$3 cxx target exe failed=0
  shift 3
  cxx=$([ "$cc" = clang ] && echo clang++ || echo g++)
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug "-D$option=ON" \
      "-DCMAKE_C_COMPILER=$cc" "-DCMAKE_CXX_COMPILER=$cxx" >"$dir.configure.log" 2>&1 &&
    cmake --build "$dir" -j "$JOBS" --target "$@" >"$dir.build.log" 2>&1 ||
    { tail -30 "$dir.build.log"; return 1; }
  for target in "$@"; do
    [[ $target == *_tests ]] || continue
    exe=$(find "$dir/tests" -type f -name "$target" -perm -u+x | head -1)
    if [ -z "$exe" ]; then
      echo "$target: executable not found in $dir"
      failed=1
      continue
    fi
    # RssTest writes and maps a 540 MB file: it measures the Release build only.
    run_sharded "$exe" "-*RssTest*" || failed=1
  done
  return $failed
}

if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
  phase "ASan+UBSan: build, then the parser, model, runtime, tokenizer and HTTP tests"
  # GCC for both. Clang compiles these -O0 builds ~40 % faster, but its UBSan vptr check probes
  # memory through a pipe and misreports every virtual call once descriptors run out (the
  # descriptor-exhaustion e2e test does that on purpose), and its static TSan runtime defines the
  # operator new/delete that counting_new.cc replaces.
  sanitized_suite build-asan STREAMGEN_SANITIZE gcc io_tests model_tests runtime_tests \
    tokenizer_abuse_tests detokenizer_tests sampling_tests scheduler_tests serving_tests \
    http_tests cli_tests chat_template_tests api_tests app_tests chat_template_source_tests \
    streamgen || status=1
  phase "TSan: build, then the thread pool, kernels, runtime, scheduler, engine and HTTP tests"
  sanitized_suite build-tsan STREAMGEN_TSAN gcc core_tests kernels_tests runtime_tests scheduler_tests \
    serving_tests http_tests app_tests || status=1
fi

phase "end-to-end (node --test, real npm clients against streamgen serve)"
if (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  (cd tests/e2e && node --test --test-concurrency=1 --test-reporter=spec \
      clients.test.mjs chat.test.mjs abuse.test.mjs http_abuse.test.mjs shutdown.test.mjs \
      load.test.mjs) ||
    status=1
  if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
    phase "end-to-end under ASan+UBSan (streamgen serve built in build-asan)"
    if [ -x build-asan/src/cli/streamgen ]; then
      (cd tests/e2e && STREAMGEN_BIN=../../build-asan/src/cli/streamgen \
          node --test --test-concurrency=1 --test-reporter=spec clients.test.mjs chat.test.mjs \
          abuse.test.mjs http_abuse.test.mjs shutdown.test.mjs) ||
        status=1
    else
      echo "build-asan/src/cli/streamgen was not built"
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
  # The Jinja chat-template target, in fuzz.sh's build dir, for the same time per target; seeds:
  # the real templates of refdata.
  jinja_work=build-fuzz/fuzz-work
  mkdir -p "$jinja_work/corpus-jinja_template" "$jinja_work/artifacts-jinja_template"
  cp "${STREAMGEN_SHARED_DIR:-../shared}"/refdata/templates/*.jinja \
      "$jinja_work/corpus-jinja_template/" 2>/dev/null
  if cmake --build build-fuzz -j "$JOBS" --target fuzz_jinja_template \
      >build-fuzz/build-jinja.log 2>&1; then
    if build-fuzz/tests/fuzz/fuzz_jinja_template "$jinja_work/corpus-jinja_template" \
        -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
        -dict=tests/fuzz/jinja_template.dict \
        -artifact_prefix="$jinja_work/artifacts-jinja_template/" -print_final_stats=1 \
        >"$jinja_work/fuzz_jinja_template.log" 2>&1; then
      echo "fuzz_jinja_template: OK, $(grep -o 'stat::number_of_executed_units: [0-9]*' \
          "$jinja_work/fuzz_jinja_template.log" | grep -o '[0-9]*$') runs"
    else
      echo "fuzz_jinja_template: FAILED, log $jinja_work/fuzz_jinja_template.log"
      grep -m1 -E 'ERROR|runtime error|SUMMARY' "$jinja_work/fuzz_jinja_template.log"
      status=1
    fi
  else
    tail -20 build-fuzz/build-jinja.log
    status=1
  fi
fi

phase "format"
scripts/check_format.sh || status=1

phase ""
echo "== wall time per phase (s) =="
printf '%s' "$timings"
echo "== summary: $([ $status -eq 0 ] && echo ALL PASSED || echo FAILURES) =="
exit $status
