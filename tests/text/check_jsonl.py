#!/usr/bin/env python3
"""Runs `streamgen tokenize --jsonl` over the golden test strings and compares every output line
with the Hugging Face goldens of one family: ids, ids_special, text, text_skip, and text_clean /
text_skip_clean where the golden has them.

usage: check_jsonl.py STREAMGEN_BINARY TOKENIZER_PATH TEST_STRINGS_JSONL GOLDEN_TOKENIZE_JSONL
"""
import json
import subprocess
import sys

KEYS = ("ids", "ids_special", "text", "text_skip", "text_clean", "text_skip_clean")


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    binary, tokenizer, strings_path, golden_path = sys.argv[1:]
    with open(strings_path, encoding="utf-8") as f:
        strings = [json.loads(line) for line in f if line.strip()]
    with open(golden_path, encoding="utf-8") as f:
        golden = [json.loads(line) for line in f if line.strip()]
    stdin = "".join(json.dumps({"text": s["text"]}, ensure_ascii=False) + "\n" for s in strings)
    proc = subprocess.run([binary, "tokenize", "--tokenizer", tokenizer, "--jsonl"],
                          input=stdin.encode("utf-8"), capture_output=True, timeout=300)
    if proc.returncode != 0:
        print("streamgen failed:", proc.stderr.decode("utf-8", "replace"), file=sys.stderr)
        return 1
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").split("\n") if line]
    if len(out) != len(strings) or len(golden) != len(strings):
        print(f"line counts differ: {len(strings)} inputs, {len(out)} outputs, "
              f"{len(golden)} goldens", file=sys.stderr)
        return 1
    failures = 0
    for s, got, want in zip(strings, out, golden):
        for key in KEYS:
            if key not in want:
                continue
            if got.get(key) != want[key]:
                failures += 1
                if failures <= 20:
                    print(f"string {s['id']} ({s['cat']}) {key}: got {got.get(key)!r} "
                          f"want {want[key]!r}", file=sys.stderr)
    print(f"{len(strings)} strings, {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
