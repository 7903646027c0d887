#!/usr/bin/env python
"""Grade prediction files and write Table 4 style scores.

    python eval/calc_metric_lc.py --predictions outputs/predictions --out outputs/scores --grader rule

An alias of `python -m long1k score`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("score")
