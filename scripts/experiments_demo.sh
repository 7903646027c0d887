#!/usr/bin/env bash
# Every experiment of the paper on the embedded default (fixtures, tiny model, mini benchmarks), offline.
# Each stage is also one command of its own (docs/experiments.md).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${EXPERIMENTS_OUT:-outputs/experiments}"
rm -rf "$OUT" outputs/sweeps/length_levels_tiny outputs/sweeps/two_stage_tiny

echo "== benchmarks, and composites of 2, 4 and 8 problems per prompt"
python data/prepare_benchmarks.py --fixtures --out "$OUT/benchmarks" --composite 2 4 8

echo "== length levels (the same 40 questions at 1k, 1.5k and 3k tokens; the paper's 1k-12k need GPUs to train)"
python scripts/build_length_levels.py --out "$OUT/length_levels" --questions 40 --levels 1000 1500 3000

echo "== length vs difficulty (easy composite vs hard single rows of equal length)"
python scripts/build_length_vs_difficulty.py --out "$OUT/length_vs_difficulty" --rows 20 --target_tokens 2500 \
  --tolerance 0.15

echo "== sweep: train the tiny model on each level, predict (also budget-forced), score"
python scripts/sweep.py scripts/recipes/length_levels_tiny.yaml

echo "== staged training: stage 2 on the 3k level starts from stage 1's model (1k level) at a tenth of its rate"
python scripts/sweep.py scripts/recipes/two_stage_tiny.yaml
cat outputs/sweeps/two_stage_tiny/runs/level_3000__stage2/sft/final/long1k_training.json

echo "== scaling law: the sweep's runs, and the paper's own points"
python scripts/scaling_law.py --runs outputs/sweeps/length_levels_tiny/runs/* --out "$OUT/scaling_sweep"
python scripts/scaling_law.py --csv scripts/data/paper_points.csv --out "$OUT/scaling_paper"

echo "== inference scaling: the models trained on longer levels vs each one budget-forced"
python scripts/inference_scaling.py --scores outputs/sweeps/length_levels_tiny/runs --out "$OUT/inference_scaling"

echo "== composite prompts: the model trained on the longest level answers 2, 4 and 8 questions per prompt"
RUNS=outputs/sweeps/length_levels_tiny/runs
python eval/predict.py --model "$RUNS/level_3000__tiny/sft/final" --model_name level_3000__tiny --backend hf \
  --benchmarks_dir "$OUT/benchmarks" --benchmarks math500 math500_x2 math500_x4 math500_x8 --limit 4 \
  --max_tokens 16 --out "$OUT/composite_predictions"
python eval/calc_metric_lc.py --predictions "$OUT/composite_predictions" --out "$OUT/composite_scores"

echo "== trace analysis (with trace structure), composite grading and difficulty grading"
echo "   (a pretend model's 4 samples per question and per composite prompt)"
python data/make_fixtures.py --predictions "$OUT/benchmarks" --out "$OUT/fixture_predictions" --samples 4
python eval/calc_metric_lc.py --predictions "$OUT/fixture_predictions" --out "$OUT/fixture_scores"
python scripts/analyze_traces.py --graded "$OUT/fixture_scores" --out "$OUT/traces"
python scripts/grade_difficulty.py --graded "$OUT/fixture_scores" --out "$OUT/difficulty" --cv_threshold 0.5

echo "experiments done: see $OUT/*/ (tables .md, figures .png)"
