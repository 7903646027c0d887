#!/usr/bin/env python
"""Trace analysis from graded predictions (the paper's Table 5 format).

    python scripts/analyze_traces.py --graded outputs/scores --out outputs/traces

Per model, correct vs wrong answers: count, mean and median response tokens, the top-10 words with
their share, reflection words (wait, but, hmm, ...) per 1,000 words, and trace structure: repeated
n-grams, the longest repeated span, loops at the end (and truncated in one), final answers that
contradict the reasoning's last conclusion, self-verification episodes, question restatement.
Writes traces.md, traces.json, structure.md/.csv, trace_structure.jsonl, reflection_words.png and
structure.png.

An alias of `python -m long1k analyze-traces`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("analyze-traces")
