#!/usr/bin/env python
"""Equal length, different difficulty: easy composite rows vs hard single problems.

    python scripts/build_length_vs_difficulty.py --out outputs/experiments/difficulty_vs_length --rows 40
    python scripts/build_length_vs_difficulty.py --easy_parts 2 ...      # "double" easy rows

An alias of `python -m long1k build-length-vs-difficulty`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("build-length-vs-difficulty")
