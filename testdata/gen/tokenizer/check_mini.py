#!/usr/bin/env python3
"""Checks visreft-mini's restricted vocabulary (sdk/mini/testdata/tokenizer.json,
made by mini.BuildTokenizer from the Qwen2 fixture) with Hugging Face's own
Rust `tokenizers`:

  1. HF loads the file, and its ids on every case of
     sdk/mini/testdata/tokenizer_cases.jsonl equal the Go tokenizer's (the
     "ids" field, written by `VISREFT_WRITE_GOLDEN=1 go test ./sdk/mini`);
  2. on model inputs ("model_input": true) HF's token strings with the mini
     vocabulary equal HF's with the full Qwen2 tokenizer (only the ids differ);
  3. every case decodes back to its text (NFC-normalised), so text outside
     the vocabulary still encodes, byte by byte at worst.

  testdata/gen/debian-sid.sh /srv/sid python3 testdata/gen/tokenizer/check_mini.py [MINI_TOKENIZER_JSON]

A model folder's tokenizer.json can be given instead of the committed one.
Exits 1 and prints each disagreement if any case differs.
"""
import gzip
import json
import os
import sys
import unicodedata

import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FULL = os.path.join(ROOT, "testdata", "tokenizer", "qwen2", "tokenizer.json.gz")
MINI = os.path.join(ROOT, "sdk", "mini", "testdata", "tokenizer.json")
CASES = os.path.join(ROOT, "sdk", "mini", "testdata", "tokenizer_cases.jsonl")


def main():
    mini_path = sys.argv[1] if len(sys.argv) > 1 else MINI
    with gzip.open(FULL, "rt", encoding="utf-8") as f:
        full = tokenizers.Tokenizer.from_str(f.read())
    mini = tokenizers.Tokenizer.from_file(mini_path)
    n = bad = model = 0
    with open(CASES, encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            text = case["text"]
            n += 1
            enc = mini.encode(text, add_special_tokens=False)
            if enc.ids != case["ids"]:
                bad += 1
                print("ids differ:", json.dumps(text), "hf", enc.ids, "go", case["ids"])
            if case["model_input"]:
                model += 1
                want = full.encode(text, add_special_tokens=False).tokens
                if enc.tokens != want:
                    bad += 1
                    print("tokens differ:", json.dumps(text), "mini", enc.tokens, "qwen2", want)
            back = mini.decode(enc.ids, skip_special_tokens=False)
            if back != unicodedata.normalize("NFC", text):
                bad += 1
                print("decode differs:", json.dumps(text), "->", json.dumps(back))
    print(f"tokenizers {tokenizers.__version__}: mini vocabulary of {mini.get_vocab_size()} ids; "
          f"{n - bad}/{n} cases agree ({model} model inputs also against the full Qwen2 tokenizer)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
