#!/usr/bin/env python
"""Write normalised MATH500 / AIME24 / AIME25 / GPQA-Diamond files.

    python data/prepare_benchmarks.py --out outputs/benchmarks                  # from the hub
    python data/prepare_benchmarks.py --out DIR --source gpqa_diamond=gpqa_diamond.csv
    python data/prepare_benchmarks.py --out DIR --fixtures                      # offline mini benchmarks

An alias of `python -m long1k prepare-benchmarks`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("prepare-benchmarks")
