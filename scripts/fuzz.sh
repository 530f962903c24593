#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz and runs each for SECONDS.
#   scripts/fuzz.sh [SECONDS]     (default 30)
# Seed corpora are written at run time by fuzz_seed_writer; the corpora grow across runs under
# build-fuzz/fuzz-work/. Targets run one per core at a time ($JOBS). Prints one line per target;
# exits non-zero if any target crashed (the crashing input is kept under
# build-fuzz/fuzz-work/artifacts-<target>/).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-$(nproc)}

mkdir -p "$build"
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found" >&2
  exit 1
fi
if ! cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DSTREAMGEN_FUZZ=ON -DSTREAMGEN_TESTS=OFF >"$build/configure.log" 2>&1; then
  cat "$build/configure.log" >&2
  echo "fuzz: configure failed" >&2
  exit 1
fi
if ! cmake --build "$build" -j "$jobs" --target fuzz_gguf fuzz_safetensors fuzz_seed_writer \
    fuzz_tokenizer_json fuzz_tokenizer_encode fuzz_tokenizer_seeds fuzz_http_request \
    fuzz_request_json \
    >"$build/build.log" 2>&1; then
  tail -40 "$build/build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi

bin="$build/tests/fuzz"
work="$build/fuzz-work"
mkdir -p "$work/corpus-gguf" "$work/corpus-safetensors"
"$bin/fuzz_seed_writer" "$work/corpus-gguf" "$work/corpus-safetensors" || exit 1
mkdir -p "$work/corpus-tokenizer_json" "$work/corpus-tokenizer_encode"
"$bin/fuzz_tokenizer_seeds" "${STREAMGEN_SHARED_DIR:-../shared}" "$work/corpus-tokenizer_json" \
    "$work/corpus-tokenizer_encode" >/dev/null || exit 1

status=0
mkdir -p "$work/corpus-http_request" "$work/corpus-request_json"
printf '\x00\x00POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' \
    >"$work/corpus-http_request/seed1"
# Byte 0: auth/CORS mode; byte 1: the piece size of the second delivery; then a connection's bytes.
printf '\x01\x03POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;e=1\r\n{}\r\n0\r\nX-T: 1\r\n\r\nGET /health HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n' \
    >"$work/corpus-http_request/seed2"
printf '{"inputs":"ROMEO:","parameters":{"max_new_tokens":5,"details":true,"stop":["a"]}}' \
    >"$work/corpus-request_json/seed1"
printf '{"prompt":["a","b"],"max_tokens":3,"stream":true}' >"$work/corpus-request_json/seed2"
printf '{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true,"stop":["x"],"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2}' \
  >"$work/corpus-request_json/seed3"
targets=(gguf safetensors tokenizer_json tokenizer_encode http_request request_json)

# Runs one target for $seconds; its exit status goes to $work/<target>.rc.
run_target() {
  local name=$1 target="fuzz_$1"
  local artifacts="$work/artifacts-$name/"
  local dict=()
  mkdir -p "$artifacts"
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  "$bin/$target" "$work/corpus-$name" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 "${dict[@]}" -artifact_prefix="$artifacts" \
      -print_final_stats=1 >"$work/$target.log" 2>&1
  echo $? >"$work/$target.rc"
}

# One fuzzer per core at a time (each is single-threaded): the same time per target, less wall
# time in all.
rm -f "$work"/fuzz_*.rc
running=0
for name in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_target "$name" &
  running=$((running + 1))
done
wait

for name in "${targets[@]}"; do
  target="fuzz_$name"
  artifacts="$work/artifacts-$name/"
  log="$work/$target.log"
  rc=$(cat "$work/$target.rc" 2>/dev/null || echo 1)
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  corpus=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  if [ "$rc" -eq 0 ]; then
    echo "$target: OK, ${runs:-?} runs in ${seconds}s, coverage ${cov:-?}, corpus ${corpus:-?}"
  else
    crash=$(ls -t "$artifacts" 2>/dev/null | head -1)
    echo "$target: FAILED (exit $rc), input $artifacts$crash, log $log"
    grep -m1 -E 'ERROR|runtime error|SUMMARY' "$log"
    status=1
  fi
done
exit $status
