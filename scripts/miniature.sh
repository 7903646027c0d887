#!/usr/bin/env bash
# The paper's experiments in miniature, by real learning, offline: the mini model (long1k/train/model.py,
# mini-qwen2) trained on the miniature world (long1k/miniworld.py) through the real stages and the sweep
# recipe scripts/recipes/miniature.yaml. Tables (.md, .csv) and figures (.png) under $MINIATURE_OUT, gathered in
# $MINIATURE_OUT/report.md; docs/experiments.md holds a measured run and says what it does and does not show.
#   MINIATURE_OUT     output folder (outputs/miniature: the recipe's paths name it; another recipe, other paths)
#   MINIATURE_RECIPE  the sweep recipe (scripts/recipes/miniature.yaml)
#   MINIATURE_RESUME  1: keep the sweep's finished runs (after a failure; the sweep reruns what changed)
#   MINIATURE_JOBS    trainings side by side (2: one core each)
#   MINIATURE_LIMIT   held-out problems per benchmark in the composite and sampling experiments (50)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${MINIATURE_OUT:-outputs/miniature}"
RECIPE="${MINIATURE_RECIPE:-scripts/recipes/miniature.yaml}"
JOBS="${MINIATURE_JOBS:-2}"
LIMIT="${MINIATURE_LIMIT:-50}"
SWEEP="$OUT/sweep/runs"
LEVELS=(none some full checked)
if [ "${MINIATURE_RESUME:-0}" = 1 ]; then
  find "$OUT" -mindepth 1 -maxdepth 1 ! -name sweep -exec rm -rf {} + 2>/dev/null || true
else
  rm -rf "$OUT"
fi
mkdir -p "$OUT"
together() { for pid in $(jobs -p); do wait "$pid"; done; }  # wait for the background stages; stop if one failed
phase() { echo "== [$((SECONDS / 60))m$((SECONDS % 60))s] $*"; echo "$SECONDS $*" >> "$OUT/phases.txt"; }

phase "held-out benchmarks: minichain (2-5 operations), minichain_hard (5), composites of 2, 4 and 8"
python data/prepare_benchmarks.py --benchmarks minichain minichain_hard --fixtures --composite 2 4 8 \
  --out "$OUT/benchmarks"

phase "length levels: the same problems with reasoning of 4 lengths (synthesis, two at a time)"
for pair in "none some" "full checked"; do
  for style in $pair; do
    python data/synthesize.py --config data/recipes/mini_world.yaml --openthoughts "fixtures:minichain/$style" \
      --s1 "fixtures:minichain/$style" --benchmarks_dir "$OUT/benchmarks" --out "$OUT/data/$style" \
      > "$OUT/synthesize_$style.log" 2>&1 &
  done
  together
done

phase "length vs difficulty: easy problems (2 operations) stitched in pairs vs hard single ones (5)"
python scripts/build_length_vs_difficulty.py --out "$OUT/data/length_vs_difficulty" --source s1 \
  --s1 fixtures:minichain/full --tokenizer mini --reasoning_format think --block_size 1024 \
  --benchmarks_dir "$OUT/benchmarks" --rows 1000 --easy_max 2 --hard_min 5 --easy_parts 2 --target_tokens 61 \
  --tolerance 0.15 --question_links "Also:" --reasoning_links "Next problem." --solution_links "{Nth}:" \
  > "$OUT/length_vs_difficulty.log" 2>&1
cat "$OUT/data/length_vs_difficulty/designs.md"

phase "sweep: 14 trainings ($JOBS at a time), each predicted greedily on held-out problems and scored"
python scripts/sweep.py "$RECIPE" --jobs "$JOBS"

phase "scaling law over the length levels (3 seeds each)"
python scripts/scaling_law.py --runs $(for l in "${LEVELS[@]}"; do echo "$SWEEP/${l}__seed"*; done) \
  --out "$OUT/scaling"

phase "length vs difficulty: the two runs' scores"
python eval/calc_metric_lc.py --predictions "$SWEEP/easy_composite__steps1558/predictions" \
  "$SWEEP/hard_single__steps2000/predictions" --out "$OUT/length_vs_difficulty"

phase "inference-only scaling: the model trained without reasoning, pushed to think longer (1 to 8 x 'Wait')"
for waits in 1 2 4 8; do
  python eval/predict.py --backend hf --model "$SWEEP/none__seed0/sft/final" \
    --model_name "none__seed0@budget96_wait$waits" --benchmarks minichain --benchmarks_dir "$OUT/benchmarks" \
    --temperature 0 --thinking_budget 96 --extend "$waits" --max_tokens 136 --out "$OUT/budget_forcing/predictions" \
    > "$OUT/budget_wait$waits.log" 2>&1
done
python eval/calc_metric_lc.py --predictions "$OUT/budget_forcing/predictions" --out "$OUT/budget_forcing/scores" \
  > /dev/null
python scripts/inference_scaling.py --scores "$OUT/budget_forcing/scores" \
  $(for l in "${LEVELS[@]}"; do echo "$SWEEP/${l}__seed"*/scores; done) --out "$OUT/inference_scaling"

phase "composite prompts of 2, 4 and 8 problems, and 4 samples per problem, from each level's model (seed 0)"
for level in "${LEVELS[@]}"; do
  python eval/predict.py --backend hf --model "$SWEEP/${level}__seed0/sft/final" --model_name "$level" \
    --benchmarks minichain_x2 minichain_x4 minichain_x8 --benchmarks_dir "$OUT/benchmarks" --limit "$LIMIT" \
    --temperature 0 --max_tokens 800 --out "$OUT/composites/predictions" > "$OUT/composites_$level.log" 2>&1 &
  python eval/predict.py --backend hf --model "$SWEEP/${level}__seed0/sft/final" --model_name "$level" \
    --benchmarks minichain --benchmarks_dir "$OUT/benchmarks" --limit "$LIMIT" --n_samples 4 --temperature 0.6 \
    --top_p 0.95 --max_tokens 200 --out "$OUT/samples/predictions" > "$OUT/samples_$level.log" 2>&1 &
  together
done
python eval/calc_metric_lc.py --predictions "$OUT/composites/predictions" --out "$OUT/composites/scores"

phase "trace structure and difficulty grading on the sampled answers"
python eval/calc_metric_lc.py --predictions "$OUT/samples/predictions" --out "$OUT/samples/scores" > /dev/null
python scripts/analyze_traces.py --graded "$OUT/samples/scores" --out "$OUT/traces"
python scripts/grade_difficulty.py --graded "$OUT/samples/scores" --out "$OUT/difficulty" --cv_threshold 0.5 \
  --tokenizer mini

phase "report"  # the last mark: the report counts the time up to here
python -m long1k miniature-report --out "$OUT"
echo "miniature done in $((SECONDS / 60)) min $((SECONDS % 60)) s: $OUT/report.md"
