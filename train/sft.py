#!/usr/bin/env python
"""Full SFT on Long1K (launch with train/sft.sh). Options: --config RECIPE.yaml plus any flag."""

from long1k.errors import run_main
from long1k.train.run import main

if __name__ == "__main__":
    run_main(main)
