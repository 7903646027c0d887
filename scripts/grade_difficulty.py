#!/usr/bin/env python
"""Difficulty grading from graded predictions with several samples per question.

    python scripts/grade_difficulty.py --graded outputs/scores --out outputs/difficulty \
        --cv_threshold 0.5 [--top_k 500]

Per question: pass rate and coefficient of variation (population std / mean of the 0/1 scores).
Stage 1 keeps questions with pass rate > --min_pass_rate and, when CV >= --cv_threshold, only their
passing answers; stage 2 (--top_k) keeps the highest-CV questions with one passing answer each.
Writes questions.csv, pass_rate_histogram.png and the selection as a training set in the synthesis
output format (data/, manifest.jsonl, stats.json).

An alias of `python -m long1k grade-difficulty`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("grade-difficulty")
