#!/usr/bin/env python
"""Trace analysis from graded predictions (the paper's Table 5 format).

    python scripts/analyze_traces.py --graded outputs/scores --out outputs/traces

Per model, correct vs wrong answers: count, mean and median response tokens, the top-10 words with
their share, and reflection words (wait, but, hmm, ...) per 1,000 words. Writes traces.md,
traces.json and reflection_words.png.

An alias of `python -m long1k analyze-traces`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("analyze-traces")
