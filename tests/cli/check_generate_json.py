"""`streamgen generate --json --top N` (issue 11): the alternatives listed per token.

- The default is 5 alternatives; --top N lists exactly N (capped at the vocabulary), most likely
  first, lower id first on ties; the list for N starts with the list for any smaller N, and the
  chosen (greedy) token is the first entry with the line's own logprob.
- --top 0 gives an empty list; the generated ids do not depend on --top; plain (non-JSON) output
  is the same ids.
- --top -1 exits 1 with a message naming the flag.

usage: check_generate_json.py STREAMGEN_BINARY SOURCE_DIR
"""
import json
import math
import subprocess
import sys

BIN, SOURCE = sys.argv[1], sys.argv[2]
DEMO_GGUF = SOURCE + "/models/demo/shakespeare-q8_0.gguf"
BASE = [BIN, "generate", "--model", DEMO_GGUF, "--prompt-ids", "1,2,3,4", "--max-new-tokens", "6",
        "--threads", "2"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def lines(*extra):
    p = subprocess.run(BASE + ["--json", *extra], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"--json {' '.join(extra)} exits 0 ({p.stderr.strip()[-200:]!r})")
    return [json.loads(x) for x in p.stdout.splitlines()]


default = lines()
top5 = lines("--top", "5")
top40 = lines("--top", "40")
top0 = lines("--top", "0")
everything = lines("--top", "100000")

check(len(default) == 6, f"6 tokens (got {len(default)})")
check(default == top5, "the default lists 5 alternatives, as --top 5 does")
ids = [x["id"] for x in default]
for name, run in (("--top 40", top40), ("--top 0", top0), ("--top 100000", everything)):
    check([x["id"] for x in run] == ids, f"{name}: the same generated ids")

for i, (d, t) in enumerate(zip(default, top40)):
    check(len(d["top"]) == 5 and len(t["top"]) == 40, f"token {i}: 5 and 40 alternatives")
    check(t["top"][:5] == d["top"], f"token {i}: the top 5 start the top 40")
    check(t["top"][0][0] == t["id"] and t["top"][0][1] == t["logprob"],
          f"token {i}: the chosen token is first, with the line's logprob")
    ok = all(a[1] > b[1] or (a[1] == b[1] and a[0] < b[0]) for a, b in zip(t["top"], t["top"][1:]))
    check(ok, f"token {i}: most likely first, lower id first on ties")
    check(len({a[0] for a in t["top"]}) == 40, f"token {i}: distinct ids")
check(all(x["top"] == [] for x in top0), "--top 0: empty lists")

# Capped at the vocabulary: the whole distribution, which sums to 1.
n = len(everything[0]["top"])
check(1000 < n < 100000 and all(len(x["top"]) == n for x in everything),
      f"--top 100000 is capped at the vocabulary ({n} entries)")
total = sum(math.exp(lp) for _, lp in everything[0]["top"])
check(abs(total - 1.0) < 1e-3, f"the whole list's probabilities sum to 1 (got {total})")

plain = subprocess.run(BASE + ["--top", "3"], capture_output=True, text=True, timeout=120)
check(plain.returncode == 0 and plain.stdout.split() == [str(i) for i in ids],
      f"plain output: the same ids ({plain.stdout.strip()!r})")

bad = subprocess.run(BASE + ["--json", "--top", "-1"], capture_output=True, text=True, timeout=60)
check(bad.returncode == 1 and "--top must be >= 0" in bad.stderr,
      f"--top -1 exits 1 naming the flag (got {bad.returncode} {bad.stderr.strip()!r})")

print(f"{len(failures)} failed" if failures else "all generate --json checks passed")
sys.exit(1 if failures else 0)
