#!/usr/bin/env python
"""Train the mini model through the real stages and check that it learned (held-out pass@1, stopping).

    python scripts/learning_check.py                       # about 4 minutes on 2 cores
    python scripts/learning_check.py --ablation end_of_turn  # break one link on purpose: the check fails

An alias of `python -m long1k learning-check`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("learning-check")
