#!/usr/bin/env python3
"""Checks testdata/tokenizer/qwen2/reference.jsonl (made with transformers.js)
against Hugging Face's own Rust `tokenizers` on the same tokenizer.json, so
the ids the Go tests expect agree with both reference implementations.

  testdata/gen/debian-sid.sh /srv/sid python3 testdata/gen/tokenizer/check_hf.py

Exits 1 and prints each disagreement if any string differs.
"""
import gzip
import json
import os
import sys

import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FIX = os.path.join(ROOT, "testdata", "tokenizer", "qwen2")


def main():
    with gzip.open(os.path.join(FIX, "tokenizer.json.gz"), "rt", encoding="utf-8") as f:
        tok = tokenizers.Tokenizer.from_str(f.read())
    n = bad = 0
    with open(os.path.join(FIX, "reference.jsonl"), encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            n += 1
            got = tok.encode(case["text"], add_special_tokens=False).ids
            if got != case["ids"]:
                bad += 1
                print("differs:", json.dumps(case["text"]), "hf", got, "reference", case["ids"])
            back = tok.decode(got, skip_special_tokens=False)
            if back != case.get("nfc", case["text"]):
                bad += 1
                print("decode differs:", json.dumps(case["text"]), "->", json.dumps(back))
    print(f"tokenizers {tokenizers.__version__}: {n - bad}/{n} strings agree with reference.jsonl")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
