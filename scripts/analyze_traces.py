#!/usr/bin/env python
"""Trace analysis from graded predictions (the paper's Table 5 format).

    python scripts/analyze_traces.py --graded outputs/scores --out outputs/traces

Per model, correct vs wrong answers: count, mean and median response tokens, the top-10 words with
their share, and reflection words (wait, but, hmm, ...) per 1,000 words. Writes traces.md,
traces.json and reflection_words.png.
"""

import argparse
import json
from pathlib import Path

from long1k.errors import run_main
from long1k.experiments.trace_analysis import analyze, markdown, plot, read_graded


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--graded", nargs="+", required=True, help="graded.jsonl files or folders holding them")
    parser.add_argument("--grader", default="rule")
    parser.add_argument("--out", default="outputs/traces")
    args = parser.parse_args(argv)
    analysis = analyze(read_graded([Path(p) for p in args.graded], args.grader))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown(analysis)
    (out / "traces.md").write_text(table + "\n")
    (out / "traces.json").write_text(json.dumps(analysis, indent=2) + "\n")
    plot(analysis, out / "reflection_words.png")
    print(table)
    print(f"wrote {out}/traces.md, traces.json, reflection_words.png")


if __name__ == "__main__":
    run_main(main)
