#!/usr/bin/env bash
# Predictions on every benchmark and seed, with data-parallel vLLM replicas on one node.
#
#   MODEL=outputs/sft/long1k_launch/final bash eval/predict.sh
#   MODEL=... SEEDS="42 43 44 45 46" PRESET=peers bash eval/predict.sh     # the peers' sampling
#   BACKEND=openai BASE_URLS="http://h1:8000/v1 http://h2:8000/v1" MODEL=served-name bash eval/predict.sh
#
# Environment: MODEL, BENCHMARKS_DIR (outputs/benchmarks), OUT (outputs/predictions), BACKEND (vllm),
# TEMPLATE (auto: the format the model was trained on, else deepseek-qwen), BENCHMARKS (all four), SEEDS (42), PRESET (none = the original's sampling),
# MAX_TOKENS (30000), TP (2 GPUs per replica, as the original), DP (1 replica), BASE_URLS.
# Extra arguments go to the predict stage (`python -m long1k predict`).
set -euo pipefail
MODEL="${MODEL:?set MODEL to a model folder or hub id}"
BACKEND="${BACKEND:-vllm}"
TP="${TP:-2}"
DP="${DP:-1}"

args=(--model "$MODEL" --backend "$BACKEND" --benchmarks_dir "${BENCHMARKS_DIR:-outputs/benchmarks}"
      --out "${OUT:-outputs/predictions}" --template "${TEMPLATE:-auto}"
      --max_tokens "${MAX_TOKENS:-30000}" --tensor_parallel_size "$TP")
[ -n "${BENCHMARKS:-}" ] && args+=(--benchmarks $BENCHMARKS)
[ -n "${SEEDS:-}" ] && args+=(--seeds $SEEDS)
[ -n "${PRESET:-}" ] && args+=(--preset "$PRESET")
[ -n "${BASE_URLS:-}" ] && args+=(--base_urls $BASE_URLS)

if [ "$BACKEND" != "vllm" ] || [ "$DP" -le 1 ]; then
  exec python -m long1k predict "${args[@]}" "$@"
fi
pids=()
for ((i = 0; i < DP; i++)); do
  gpus=$(seq -s, $((i * TP)) $((i * TP + TP - 1)))
  CUDA_VISIBLE_DEVICES="$gpus" python -m long1k predict "${args[@]}" --num_shards "$DP" --shard_index "$i" "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
