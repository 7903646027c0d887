#!/usr/bin/env python
"""Length levels with the same questions at every level (default 1k ... 12k tokens, 500 questions).

    python scripts/build_length_levels.py --out outputs/experiments/length_levels [--questions 40]
    python scripts/build_length_levels.py --levels 2588 3425 4355 5986 --out outputs/experiments/four_sets
"""

from long1k.errors import run_main
from long1k.experiments.levels import main

if __name__ == "__main__":
    run_main(main)
