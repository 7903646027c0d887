#!/usr/bin/env python
"""Build a Long1K training set. With no source flags it runs offline on the generated fixtures.

    python data/synthesize.py --out outputs/long1k
    python data/synthesize.py --config data/recipes/long1k_hub.yaml --out outputs/long1k

An alias of `python -m long1k synthesize`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("synthesize")
