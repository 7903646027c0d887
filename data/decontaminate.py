#!/usr/bin/env python
"""Check a dataset against the prepared benchmarks: copies and near misses, with scores.

    python data/decontaminate.py --input FILE --field question --benchmarks_dir outputs/benchmarks

An alias of `python -m long1k decontaminate`.
"""

from long1k.cli import run_stage

if __name__ == "__main__":
    run_stage("decontaminate")
