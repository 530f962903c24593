#!/usr/bin/env bash
# Runs every test suite and prints each runner's summary. Called by `make test` after the build.
#  1. the Release build's CTest suite (unit tests + PyTorch reference comparisons);
#  2. the file-parser, model-loading and runtime tests rebuilt under ASan+UBSan, and the
#     multi-threaded ones (kernels, runtime) under TSan;
#  3. the end-to-end suite: a real `streamgen serve` driven by npm clients (@huggingface/inference
#     4.x and 2.x), curl and raw sockets (bad input, HTTP abuse, SIGTERM with streams in flight),
#     plus the bounded load test and structured output (grammar.test.mjs: every constrained
#     output checked by ajv or JavaScript's RegExp), resumable streams cut 200 times
#     (resume.test.mjs), a short `streamgen bench-serve` run (bench_serve.test.mjs), the deployment
#     files (deploy.test.mjs: the Dockerfile and the Kubernetes manifests) and three replicas
#     behind nginx (proxy.test.mjs); again under ASan+UBSan (the server-facing suites);
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

# Runs GoogleTest executables, each split into $SHARDS shards (GTEST_TOTAL_SHARDS), as a pool of
# $JOBS processes at a time, in the order given (put the slowest first). One process per shard,
# not per test as ctest would do: what a process loads once (a 10 MB tokenizer.json takes seconds
# under ASan) is loaded once per shard. Prints each shard's summary; the whole log of a shard that
# failed.
#   run_sharded EXECUTABLE...
SHARDS=${SHARDS:-2}
run_sharded() {
  local exe i failed=0 log
  for exe in "$@"; do rm -f "$exe".shard*.rc; done
  for exe in "$@"; do
    for ((i = 0; i < SHARDS; i++)); do printf '%s %d\n' "$exe" "$i"; done
  done | xargs -P "$JOBS" -L 1 sh -c \
      'GTEST_TOTAL_SHARDS='"$SHARDS"' GTEST_SHARD_INDEX=$1 "$0" --gtest_filter="-*RssTest*" \
          --gtest_brief=1 >"$0.shard$1.log" 2>&1; echo $? >"$0.shard$1.rc"'
  # (RssTest writes and maps a 540 MB file: it measures the Release build only.)
  for exe in "$@"; do
    for ((i = 0; i < SHARDS; i++)); do
      log="$exe.shard$i.log"
      if [ "$(cat "$exe.shard$i.rc" 2>/dev/null)" = 0 ]; then
        echo "$(basename "$exe") shard $((i + 1))/$SHARDS: $(grep -E '^\[  PASSED  \]' "$log" | tail -1)"
      else
        echo "$(basename "$exe") shard $((i + 1))/$SHARDS: FAILED"
        cat "$log"
        failed=1
      fi
    done
  done
  return $failed
}

# Configures (scripts/configure_sanitized.sh KIND DIR), builds only the named targets, and runs
# the test executables among them (*_tests).
#   sanitized_suite KIND DIR TARGET...
sanitized_suite() {
  local kind=$1 dir=$2 target exe exes=() failed=0
  shift 2
  scripts/configure_sanitized.sh "$kind" "$dir" >"$dir.configure.log" 2>&1 &&
    cmake --build "$dir" -j "$JOBS" --target "$@" >"$dir.build.log" 2>&1 ||
    { tail -30 "$dir.configure.log" "$dir.build.log"; return 1; }
  for target in "$@"; do
    [[ $target == *_tests ]] || continue
    exe=$(find "$dir/tests" -type f -name "$target" -perm -u+x | head -1)
    if [ -z "$exe" ]; then
      echo "$target: executable not found in $dir"
      failed=1
      continue
    fi
    exes+=("$exe")
  done
  run_sharded "${exes[@]}" || failed=1
  return $failed
}

if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
  phase "ASan+UBSan: build (with the fuzz targets), then the parser, model, runtime, tokenizer, constraint and HTTP tests"
  # Clang. Its UBSan vptr check probes memory through a pipe, so a sanitized server cannot be run
  # out of descriptors without false reports: the e2e descriptor-exhaustion test is Release-only.
  sanitized_suite asan build-asan chat_template_tests detokenizer_tests tokenizer_abuse_tests \
    model_tests http_tests io_tests chat_template_source_tests serving_tests api_tests \
    runtime_tests sampling_tests scheduler_tests cli_tests bench_serve_tests app_tests \
    constrain_tests streamgen fuzz_targets ||
    status=1
  phase "TSan: build, then the thread pool, kernels, runtime, scheduler, engine, grammar cache and HTTP tests"
  sanitized_suite tsan build-tsan kernels_tests http_tests runtime_tests core_tests \
    scheduler_tests serving_tests app_tests constrain_tests || status=1
fi

phase "end-to-end (node --test, real npm clients against streamgen serve)"
if (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
  (cd tests/e2e && node --test --test-concurrency=1 --test-reporter=spec \
      clients.test.mjs chat.test.mjs grammar.test.mjs abuse.test.mjs http_abuse.test.mjs \
      shutdown.test.mjs load.test.mjs bench_serve.test.mjs deploy.test.mjs proxy.test.mjs \
      resume.test.mjs) ||
    status=1
  if [ "${STREAMGEN_SKIP_SANITIZE:-0}" != 1 ]; then
    phase "end-to-end under ASan+UBSan (streamgen serve built in build-asan)"
    if [ -x build-asan/src/cli/streamgen ]; then
      # grammar.test.mjs runs 8 outputs per schema and regex there (STREAMGEN_GRAMMAR_N).
      (cd tests/e2e && STREAMGEN_BIN=../../build-asan/src/cli/streamgen \
          node --test --test-concurrency=1 --test-reporter=spec clients.test.mjs chat.test.mjs \
          grammar.test.mjs abuse.test.mjs http_abuse.test.mjs shutdown.test.mjs resume.test.mjs) ||
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
  phase "fuzz (bounded; the targets were built with the ASan suite)"
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}" || status=1
fi

phase "format"
scripts/check_format.sh || status=1

phase ""
echo "== wall time per phase (s) =="
printf '%s' "$timings"
echo "== summary: $([ $status -eq 0 ] && echo ALL PASSED || echo FAILURES) =="
exit $status
