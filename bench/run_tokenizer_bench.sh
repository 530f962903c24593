#!/usr/bin/env bash
# Runs tokenizer_bench (ours) and tokenizer_bench_hf.mjs (Hugging Face tokenizers via npm) on the
# same generated inputs, one thread each, and prints them side by side with ours/HF.
#   bench/run_tokenizer_bench.sh [RUNS]        (default 5; BUILD_DIR defaults to build)
# Needs `npm ci` in bench/ once (the lock file pins tokenizers 0.23.2, the goldens' version).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
build=${BUILD_DIR:-build}
data="$build/bench-data"
bin="$build/bench/tokenizer_bench"

if [ ! -x "$bin" ]; then
  echo "run_tokenizer_bench: $bin not built (cmake --build $build --target tokenizer_bench)" >&2
  exit 1
fi
if [ ! -d bench/node_modules/tokenizers ]; then
  (cd bench && npm ci --no-audit --no-fund >/dev/null)
fi
python3 bench/data/make_tokenizer_inputs.py "$data" >/dev/null

# One thread for both sides.
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
"$bin" --data "$data" --runs "$runs" | grep -E '^(CPU|one-core)'
ours=$(mktemp)
hf=$(mktemp)
trap 'rm -f "$ours" "$hf"' EXIT
"$bin" --data "$data" --runs "$runs" --tsv >"$ours"
node bench/tokenizer_bench_hf.mjs --data "$data" --runs "$runs" --tsv >"$hf"

# Join on (family, input). A token count that differs from HF's is flagged: the speed of a wrong
# answer means nothing.
awk -F'\t' '
  NR == FNR { hf_mbs[$1 FS $2] = $6; hf_tok[$1 FS $2] = $4; next }
  FNR == 1 {
    printf "%-8s %-14s %8s %9s %9s %7s %11s\n", "family", "input", "bytes", "ours MB/s",
           "HF MB/s", "ours/HF", "ours ms"
  }
  {
    key = $1 FS $2
    ratio = (key in hf_mbs && hf_mbs[key] > 0) ? sprintf("%.2f", $6 / hf_mbs[key]) : "-"
    note = (key in hf_tok && hf_tok[key] != $4) ? sprintf("  tokens %s vs HF %s", $4, hf_tok[key]) : ""
    printf "%-8s %-14s %8d %9.2f %9.2f %7s %11.2f%s\n", $1, $2, $3, $6, hf_mbs[key], ratio,
           $5 * 1000, note
  }' "$hf" "$ours"
