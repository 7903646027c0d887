#!/usr/bin/env python
"""Grade prediction files and write Table 4 style scores.

    python eval/calc_metric_lc.py --predictions outputs/predictions --out outputs/scores --grader rule
"""

from long1k.errors import run_main
from long1k.scoring.report import main

if __name__ == "__main__":
    run_main(main)
