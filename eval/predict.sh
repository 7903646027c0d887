#!/usr/bin/env bash
# Predictions on every benchmark and seed, with data-parallel vLLM replicas on one node.
#
#   MODEL=outputs/sft/long1k_launch/final bash eval/predict.sh
#   MODEL=... SEEDS="42 43 44 45 46" PRESET=peers bash eval/predict.sh     # the peers' sampling
#   MODEL=... TP=2 DP=4 bash eval/predict.sh                               # 4 replicas x 2 GPUs
#   BACKEND=openai BASE_URLS="http://h1:8000/v1 http://h2:8000/v1" MODEL=served-name bash eval/predict.sh
#
# Environment: MODEL, BENCHMARKS_DIR (outputs/benchmarks), OUT (outputs/predictions), BACKEND (vllm),
# TEMPLATE (auto: the format the model was trained on, else deepseek-qwen), BENCHMARKS (all four),
# SEEDS (42), PRESET (none = the original's sampling), MAX_TOKENS (30000), TP (2 GPUs per replica, as
# the original), DP (1 replica), BASE_URLS, DRY_RUN=1 (print the commands, run nothing).
# Extra arguments go to the predict stage (`python -m long1k predict`, e.g. --thinking_budget 4000).
#
# GPUs: replicas take the GPUs in CUDA_VISIBLE_DEVICES when it is set (Slurm, containers), else all of
# the node's (nvidia-smi); DP x TP must not exceed them. Replica i gets GPUs i*TP .. i*TP+TP-1 of that list.
#
# Several nodes: start one server per node and point one client at all of them; requests are shared
# through one queue, and a server that dies is left out while the others go on:
#   node k:  vllm serve MODEL --served-model-name long1k -tp 2 --port 8000 --max-model-len 32768 --seed 0
#   client:  BACKEND=openai MODEL=long1k BASE_URLS="http://node1:8000/v1 http://node2:8000/v1" \
#            bash eval/predict.sh --tokenizer MODEL
set -euo pipefail
MODEL="${MODEL:?set MODEL to a model folder or hub id}"
BACKEND="${BACKEND:-vllm}"
TP="${TP:-2}"
DP="${DP:-1}"
run() { if [ -n "${DRY_RUN:-}" ]; then echo "${CUDA_VISIBLE_DEVICES:+CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES }$*"; else "$@"; fi; }

args=(--model "$MODEL" --backend "$BACKEND" --benchmarks_dir "${BENCHMARKS_DIR:-outputs/benchmarks}"
      --out "${OUT:-outputs/predictions}" --template "${TEMPLATE:-auto}"
      --max_tokens "${MAX_TOKENS:-30000}" --tensor_parallel_size "$TP")
[ -n "${BENCHMARKS:-}" ] && args+=(--benchmarks $BENCHMARKS)
[ -n "${SEEDS:-}" ] && args+=(--seeds $SEEDS)
[ -n "${PRESET:-}" ] && args+=(--preset "$PRESET")
[ -n "${BASE_URLS:-}" ] && args+=(--base_urls $BASE_URLS)

if [ "$BACKEND" != "vllm" ]; then
  run python -m long1k predict "${args[@]}" "$@"
  exit
fi

if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
  IFS=, read -r -a gpus <<< "$CUDA_VISIBLE_DEVICES"
elif command -v nvidia-smi > /dev/null; then
  mapfile -t gpus < <(nvidia-smi --query-gpu=index --format=csv,noheader)
else
  echo "error: no GPU found (CUDA_VISIBLE_DEVICES unset, no nvidia-smi); the vllm backend needs GPUs" >&2
  exit 2
fi
if (( DP < 1 || TP < 1 || DP * TP > ${#gpus[@]} )); then
  echo "error: DP x TP = $DP x $TP = $((DP * TP)) GPUs, but ${#gpus[@]} are visible (${gpus[*]})" >&2
  exit 2
fi

if (( DP == 1 )); then
  CUDA_VISIBLE_DEVICES=$(IFS=,; echo "${gpus[*]:0:TP}") run python -m long1k predict "${args[@]}" "$@"
  exit
fi
pids=()
for ((i = 0; i < DP; i++)); do
  CUDA_VISIBLE_DEVICES=$(IFS=,; echo "${gpus[*]:i*TP:TP}") \
    run python -m long1k predict "${args[@]}" --num_shards "$DP" --shard_index "$i" "$@" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=$?; done
exit $status
