#!/usr/bin/env python3
"""Writes the tokenizer benchmark inputs (nothing big is committed; they are made at run time).

    make_tokenizer_inputs.py OUT_DIR [--shared DIR]

english_1mb.txt: the first 1 000 000 bytes of tinyshakespeare (plain English prose).
mixed_1mb.txt:   the 236 golden test strings (every script, emoji, code, control characters,
                 special-token literals) shuffled with a fixed seed, joined by newlines and repeated
                 until 1 000 000 bytes, cut back to a whole UTF-8 character.
Both files are byte-identical on every run, so our bench and the Hugging Face one read the same
text.
"""
import argparse
import json
import os
import random
import sys

SIZE = 1_000_000


def utf8_prefix(data: bytes, size: int) -> bytes:
    """The longest prefix of at most `size` bytes that does not split a character."""
    cut = min(size, len(data))
    while cut > 0 and cut < len(data) and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return data[:cut]


def english(shared: str) -> bytes:
    with open(os.path.join(shared, "data", "tinyshakespeare.txt"), "rb") as f:
        text = f.read()
    if len(text) < SIZE:
        sys.exit("tinyshakespeare.txt is shorter than 1 MB")
    return utf8_prefix(text, SIZE)


def mixed(shared: str) -> bytes:
    path = os.path.join(shared, "refdata", "golden", "test_strings.jsonl")
    with open(path, encoding="utf-8") as f:
        strings = [json.loads(line)["text"] for line in f if line.strip()]
    rng = random.Random(20261124)  # fixed: both benches must see the same bytes
    parts, size = [], 0
    while size < SIZE:
        batch = strings[:]
        rng.shuffle(batch)
        for s in batch:
            # surrogatepass: a golden string may hold a lone surrogate; keep its bytes as they are.
            b = s.encode("utf-8", "surrogatepass") + b"\n"
            parts.append(b)
            size += len(b)
    return utf8_prefix(b"".join(parts), SIZE)


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--shared", default=os.path.join(here, "..", "..", "..", "shared"))
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for name, data in (("english_1mb.txt", english(args.shared)),
                       ("mixed_1mb.txt", mixed(args.shared))):
        with open(os.path.join(args.out_dir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
