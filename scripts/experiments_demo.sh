#!/usr/bin/env bash
# Every experiment of the paper on the embedded default, offline: first the miniature (scripts/miniature.sh:
# the mini model trained for real on the miniature world), then what the miniature does not cover. Each
# stage is also one command of its own (docs/experiments.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${EXPERIMENTS_OUT:-outputs/experiments}"
MINI_DATA=outputs/sweeps/two_stage_mini_data  # where scripts/recipes/two_stage_mini.yaml reads its data
rm -rf "$OUT" outputs/sweeps/two_stage_mini "$MINI_DATA"

echo "== the paper's experiments in miniature, by real learning (outputs/miniature/report.md)"
bash scripts/miniature.sh

echo "== staged training with the mini model: stage 2 on the longest level starts from stage 1's model"
python data/prepare_benchmarks.py --benchmarks minichain --fixtures --out "$MINI_DATA/benchmarks"
for style in none checked; do
  python data/synthesize.py --config data/recipes/mini_world.yaml --openthoughts "fixtures:minichain/$style" \
    --s1 "fixtures:minichain/$style" --benchmarks_dir "$MINI_DATA/benchmarks" --out "$MINI_DATA/$style"
done
python scripts/sweep.py scripts/recipes/two_stage_mini.yaml
cat outputs/sweeps/two_stage_mini/runs/checked__stage2/sft/final/long1k_training.json

echo "== the paper's own length levels by stitching (1k, 1.5k, 3k tokens of the fixtures; data only: the"
echo "   paper's 1k-12k need GPUs to train)"
python scripts/build_length_levels.py --out "$OUT/length_levels" --questions 40 --levels 1000 1500 3000

echo "== the scaling law on the paper's own points"
python scripts/scaling_law.py --csv scripts/data/paper_points.csv --out "$OUT/scaling_paper"

echo "experiments done: outputs/miniature/report.md, outputs/sweeps/two_stage_mini/, $OUT/*/"
