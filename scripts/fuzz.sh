#!/usr/bin/env bash
# Builds the libFuzzer targets in the ASan+UBSan build (build-asan, clang; see
# scripts/configure_sanitized.sh) and runs each for SECONDS.
#   scripts/fuzz.sh [SECONDS]     (default 30)
# Seed corpora are written at run time (fuzz_seed_writer, fuzz_tokenizer_seeds, the real chat
# templates of refdata, a few regex patterns, the test schemas); the corpora grow across runs under
# build-asan/fuzz-work/. Targets run one per core at a time ($JOBS). Prints one line per target;
# exits non-zero if any target crashed (the crashing input is kept under
# build-asan/fuzz-work/artifacts-<target>/).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=${FUZZ_BUILD_DIR:-build-asan}
jobs=${JOBS:-$(nproc)}
shared=${STREAMGEN_SHARED_DIR:-../shared}

mkdir -p "$build"
if ! scripts/configure_sanitized.sh asan "$build" >"$build.configure.log" 2>&1; then
  cat "$build.configure.log" >&2
  echo "fuzz: configure failed" >&2
  exit 1
fi
if ! cmake --build "$build" -j "$jobs" --target fuzz_targets >"$build/fuzz-build.log" 2>&1; then
  tail -40 "$build/fuzz-build.log" >&2
  echo "fuzz: build failed" >&2
  exit 1
fi

bin="$build/tests/fuzz"
work="$build/fuzz-work"
mkdir -p "$work/corpus-gguf" "$work/corpus-safetensors"
"$bin/fuzz_seed_writer" "$work/corpus-gguf" "$work/corpus-safetensors" || exit 1
mkdir -p "$work/corpus-tokenizer_json" "$work/corpus-tokenizer_encode"
"$bin/fuzz_tokenizer_seeds" "$shared" "$work/corpus-tokenizer_json" \
    "$work/corpus-tokenizer_encode" >/dev/null || exit 1

status=0
mkdir -p "$work/corpus-http_request" "$work/corpus-request_json"
printf '\x00\x00POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' \
    >"$work/corpus-http_request/seed1"
# Byte 0: auth/CORS mode; byte 1: the piece size of the second delivery; then a connection's bytes.
printf '\x01\x03POST /generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;e=1\r\n{}\r\n0\r\nX-T: 1\r\n\r\nGET /health HTTP/1.1\r\n\r\nGET / HTTP/1.0\r\n\r\n' \
    >"$work/corpus-http_request/seed2"
# Byte-by-byte delivery of a chunked body ending "0\r\n\r\n": Beast's own assertion on re-entry
# with 4 bytes (CMakeLists.txt, BOOST_DISABLE_ASSERTS); kept as a regression seed.
printf '\x00\x00A!ST /gene'"'"'rate HTTP/1.1\r\nHost: x\r\nContenqt-Type: app/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n2;e=1\r\n{lication/json\r\nContent-Length: 1,,,,,,,,OPTNI\r\nSO\r\n{}' \
    >"$work/corpus-http_request/seed3"
printf '{"inputs":"ROMEO:","parameters":{"max_new_tokens":5,"details":true,"stop":["a"]}}' \
    >"$work/corpus-request_json/seed1"
printf '{"prompt":["a","b"],"max_tokens":3,"stream":true}' >"$work/corpus-request_json/seed2"
printf '{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"stream":true,"stop":["x"],"stream_options":{"include_usage":true},"logprobs":true,"top_logprobs":2}' \
  >"$work/corpus-request_json/seed3"
mkdir -p "$work/corpus-jinja_template"
cp "$shared"/refdata/templates/*.jinja "$work/corpus-jinja_template/" 2>/dev/null
mkdir -p "$work/corpus-regex"
printf '^[A-Z]{2}-\\d{4}$' >"$work/corpus-regex/seed1"
printf '(?:[a-z0-9._%%+-]+)@(?<host>[^\\s@]+\\.[a-z]{2,})|\\u{1F600}*?' >"$work/corpus-regex/seed2"
printf '(a|b)*a(a|b){12}' >"$work/corpus-regex/seed3"
printf '[^"\\\\\\x00-\\x1f]{0,64}\\.?\\uD83D\\uDE00[\\s\\S]' >"$work/corpus-regex/seed4"
mkdir -p "$work/corpus-json_schema"
cp tests/constrain/schemas/*.json "$work/corpus-json_schema/"
# Byte 0: the piece size of the split parse; then a server's stream (TGI native, OpenAI, errors).
mkdir -p "$work/corpus-sse_stream"
printf '\x03data: {"index":1,"token":{"id":5,"text":"a","logprob":-0.1,"special":false},"generated_text":null,"details":null}\r\n\r\n: keep-alive\n\ndata:{"index":2,"token":{"id":2,"text":"","logprob":0,"special":true},"generated_text":"a","details":{"finish_reason":"eos_token","generated_tokens":2,"input_length":3}}\n\n' \
    >"$work/corpus-sse_stream/seed1"
printf '\x07id: 0123456789abcdef0123456789abcdef-1\nretry: 500\ndata: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\ndata: {"error":"Model is overloaded","error_type":"overloaded"}\r\rdata: [DONE]\n\n' \
    >"$work/corpus-sse_stream/seed2"
# Slowest first (fewest executions per second), so the last one to start is a quick one.
targets=(jinja_template tokenizer_json tokenizer_encode request_json json_schema regex gguf
  safetensors http_request sse_stream)

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
