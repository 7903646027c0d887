#!/usr/bin/env python
"""Equal length, different difficulty: easy composite rows vs hard single problems.

    python scripts/build_length_vs_difficulty.py --out outputs/experiments/difficulty_vs_length --rows 40
    python scripts/build_length_vs_difficulty.py --easy_parts 2 ...      # "double" easy rows
"""

from long1k.errors import run_main
from long1k.experiments.designs import main

if __name__ == "__main__":
    run_main(main)
