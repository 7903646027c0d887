#!/usr/bin/env bash
# The main job on the embedded default, offline: the Long1K chain on the paper's four (mini) benchmarks with
# a tiny random model under ZeRO-3 + CPU offload, and the miniature world's model that learns, one score table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${DEMO_OUT:-outputs/demo}"

echo "== 1/7 benchmarks: generated mini MATH500 / AIME24 / AIME25 / GPQA-Diamond, and minichain (held-out)"
python data/prepare_benchmarks.py --fixtures --out "$OUT/benchmarks" \
  --benchmarks math500 aime24 aime25 gpqa_diamond minichain

echo "== 2/7 Long1K synthesis from the generated OpenThoughts / s1K-1.1 fixtures"
python data/synthesize.py --out "$OUT/long1k" --benchmarks_dir "$OUT/benchmarks"

echo "== 3/7 SFT of a tiny random Qwen2 model: torchrun x2, DeepSpeed ZeRO-3 + CPU offload (gloo)"
rm -rf "$OUT/sft"  # the demo's own run folders: start them afresh each time
NPROC_PER_NODE=2 DS_ACCELERATOR=cpu RECIPE=train/recipes/tiny_cpu.yaml DATA="$OUT/long1k" OUTPUT_DIR="$OUT/sft" \
  MASTER_PORT="${MASTER_PORT:-29517}" bash train/sft.sh

echo "== 4/7 the miniature world's training set (mini tokenizer, held-out problems decontaminated away)"
python data/synthesize.py --config data/recipes/mini_world.yaml --out "$OUT/mini" --benchmarks_dir "$OUT/benchmarks"

echo "== 5/7 SFT of the mini model (mini-qwen2, 300k parameters): torchrun x2, about 3.5 minutes"
rm -rf "$OUT/mini_sft"
NPROC_PER_NODE=2 RECIPE=train/recipes/mini_cpu.yaml DATA="$OUT/mini" OUTPUT_DIR="$OUT/mini_sft" \
  MASTER_PORT="${MASTER_PORT:-29517}" bash train/sft.sh

echo "== 6/7 predictions with the hf backend: the tiny model on the four (8 problems each, short budget), the mini model on"
echo "       100 held-out minichain problems (greedy)"
rm -rf "$OUT/predictions"
python eval/predict.py --model "$OUT/sft/final" --model_name tiny-long1k --backend hf \
  --benchmarks_dir "$OUT/benchmarks" --out "$OUT/predictions" --max_tokens 48 --limit 8 --seeds 42
python eval/predict.py --model "$OUT/mini_sft/final" --model_name mini --backend hf --benchmarks minichain \
  --benchmarks_dir "$OUT/benchmarks" --out "$OUT/predictions" --temperature 0 --max_tokens 400

echo "== 7/7 scores (rule grader)"
python eval/calc_metric_lc.py --predictions "$OUT/predictions" --out "$OUT/scores" --grader rule

echo "demo done: data in $OUT/long1k and $OUT/mini (stats.json, length_histogram.png), models in $OUT/sft/final and"
echo "$OUT/mini_sft/final (loss.png), scores in $OUT/scores/results.md: the tiny random model trained for 6 steps"
echo "scores about 0 on the four; the mini model answers held-out minichain problems it never saw"
