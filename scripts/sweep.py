#!/usr/bin/env python
"""Run a sweep recipe (datasets x training settings x benchmarks x seeds), resuming where it stopped.

    python scripts/sweep.py scripts/recipes/length_levels_tiny.yaml --dry-run
    python scripts/sweep.py scripts/recipes/length_levels_tiny.yaml
    python scripts/scaling_law.py --runs outputs/sweeps/length_levels_tiny/runs/*

An alias of `python -m long1k sweep`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("sweep")
