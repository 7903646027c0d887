#!/usr/bin/env bash
# The main job on the embedded default, offline: prepare the mini benchmarks, synthesize a
# Long1K set from the generated fixtures, print its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${DEMO_OUT:-outputs/demo}"

echo "== 1/5 benchmarks (generated mini MATH500 / AIME24 / AIME25 / GPQA-Diamond)"
python data/prepare_benchmarks.py --fixtures --out "$OUT/benchmarks"

echo "== 2/5 Long1K synthesis from the generated OpenThoughts / s1K-1.1 fixtures"
python data/synthesize.py --out "$OUT/long1k" --benchmarks_dir "$OUT/benchmarks"

echo "== 3/5 SFT of a tiny random Qwen2 model: torchrun x2, DeepSpeed ZeRO-3 + CPU offload (gloo)"
rm -rf "$OUT/sft"  # the demo's own run folder: start it afresh each time
NPROC_PER_NODE=2 DS_ACCELERATOR=cpu RECIPE=train/recipes/tiny_cpu.yaml DATA="$OUT/long1k" OUTPUT_DIR="$OUT/sft" \
  MASTER_PORT="${MASTER_PORT:-29517}" bash train/sft.sh

echo "== 4/5 predictions with the hf backend on the mini benchmarks (2 seeds, short budget)"
rm -rf "$OUT/predictions"
python eval/predict.py --model "$OUT/sft/final" --model_name tiny-long1k --backend hf \
  --benchmarks_dir "$OUT/benchmarks" --out "$OUT/predictions" --max_tokens 48 --limit 8 --seeds 42 43

echo "== 5/5 scores (rule grader)"
python eval/calc_metric_lc.py --predictions "$OUT/predictions" --out "$OUT/scores" --grader rule

echo "demo done: data in $OUT/long1k (stats.json, length_histogram.png), model in $OUT/sft/final (loss.png),"
echo "scores in $OUT/scores (results.md; a tiny random model trained for 6 steps scores about 0)"
