#!/usr/bin/env bash
# The main job on the embedded default, offline: prepare the mini benchmarks, synthesize a
# Long1K set from the generated fixtures, print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${DEMO_OUT:-outputs/demo}"

echo "== 1/2 benchmarks (generated mini MATH500 / AIME24 / AIME25 / GPQA-Diamond)"
python data/prepare_benchmarks.py --fixtures --out "$OUT/benchmarks"

echo "== 2/2 Long1K synthesis from the generated OpenThoughts / s1K-1.1 fixtures"
python data/synthesize.py --out "$OUT/long1k" --benchmarks_dir "$OUT/benchmarks"

echo "demo done: see $OUT/long1k/stats.json and $OUT/long1k/length_histogram.png"
