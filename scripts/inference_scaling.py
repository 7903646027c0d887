#!/usr/bin/env python
"""Accuracy against mean inference tokens: models trained on longer data vs budget-forced lines.

    python scripts/inference_scaling.py --scores outputs/sweeps/length_levels_tiny/runs --out outputs/inference_scaling

Reads the score stage's results.json files; models named NAME@budgetN (the sweep's thinking_budgets)
form one budget-forcing line per NAME, the others the trained line. Writes inference_scaling.md,
.csv, .json and inference_scaling.png with the slope per tenfold inference tokens of each line.

An alias of `python -m long1k inference-scaling`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("inference-scaling")
