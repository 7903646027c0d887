#!/usr/bin/env python
"""Fit accuracy = a + b * log10(length) per benchmark and draw the paper-style figure.

    python scripts/scaling_law.py --csv scripts/data/paper_points.csv --out outputs/scaling
    python scripts/scaling_law.py --runs outputs/sweeps/length_levels/runs/* --out outputs/scaling

--csv takes columns length, benchmark, accuracy; --runs takes sweep run folders (RUN/data/stats.json
for the training-set mean response length, RUN/scores/results.json for the scores). Writes
fits.md, fits.csv, fits.json and scaling_law.png.

An alias of `python -m long1k scaling-law`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("scaling-law")
