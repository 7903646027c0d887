#!/usr/bin/env python
"""Length levels with the same questions at every level (default 1k ... 12k tokens, 500 questions).

    python scripts/build_length_levels.py --out outputs/experiments/length_levels [--questions 40]
    python scripts/build_length_levels.py --levels 2588 3425 4355 5986 --out outputs/experiments/four_sets

An alias of `python -m long1k build-length-levels`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("build-length-levels")
