#!/usr/bin/env python3
"""Runs `streamgen chat-template --jsonl` on a few rows of one template's goldens and compares each
output line with Python's answer (text_py / error_py when present, else text).

usage: check_chat_template_cli.py STREAMGEN_BINARY REFDATA_DIR TEMPLATE_NAME [SPECIAL_TOKENS_JSON]
"""
import json
import subprocess
import sys


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    binary, ref, name = sys.argv[1:4]
    tokens = json.loads(sys.argv[4]) if len(sys.argv) == 5 else {}
    with open(f"{ref}/golden/conversations.json", encoding="utf-8") as f:
        convs = json.load(f)
    with open(f"{ref}/golden/templates/{name}.jsonl", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    # A few rows of different kinds: plain, tools, and the first one that raises (if any).
    picked = rows[:4] + [r for r in rows if r.get("tools")][:2]
    picked += [r for r in rows if "error_py" in r][:1]
    lines = []
    for r in picked:
        c = convs["conversations"][r["conv"]]
        ctx = {"messages": c["messages"],
               "tools": convs["tools"] if c.get("tools") else None,
               "add_generation_prompt": r["add_generation_prompt"], **tokens}
        lines.append(json.dumps(ctx, ensure_ascii=False))
    d = convs["fixed_date"]
    date = f"{d['year']:04d}-{d['month']:02d}-{d['day']:02d}"
    proc = subprocess.run([binary, "chat-template", "--template", f"{ref}/templates/{name}.jinja",
                           "--jsonl", "--date", date],
                          input=("\n".join(lines) + "\n").encode("utf-8"), capture_output=True,
                          timeout=120)
    if proc.returncode != 0:
        print("streamgen failed:", proc.stderr.decode("utf-8", "replace"), file=sys.stderr)
        return 1
    out = [json.loads(line) for line in proc.stdout.decode("utf-8").split("\n") if line]
    if len(out) != len(picked):
        print(f"{len(picked)} inputs, {len(out)} outputs", file=sys.stderr)
        return 1
    failures = 0
    for r, got in zip(picked, out):
        if "error_py" in r:
            ok = "error" in got
        else:
            ok = got.get("text") == r.get("text_py", r.get("text"))
        if not ok:
            failures += 1
            print(f"conv {r['conv']} agp={r['add_generation_prompt']}: got {got}", file=sys.stderr)
    print(f"{len(picked) - failures}/{len(picked)} lines agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
