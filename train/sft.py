#!/usr/bin/env python
"""Full SFT on Long1K (launch with train/sft.sh). Options: --config RECIPE.yaml plus any flag.

An alias of `python -m long1k train`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("train")
