#!/usr/bin/env bash
# Predictions on every benchmark and seed, with data-parallel vLLM replicas on one node.
#
#   MODEL=outputs/sft/long1k_launch/final bash eval/predict.sh
#   MODEL=... SEEDS="42 43 44 45 46" PRESET=peers bash eval/predict.sh     # the peers' sampling
#   MODEL=... TP=2 DP=4 bash eval/predict.sh                               # 4 replicas x 2 GPUs
#   MODEL=... DEVICE=cpu bash eval/predict.sh --limit 5                    # vLLM's CPU build (.venv-vllm)
#   BACKEND=openai BASE_URLS="http://h1:8000/v1 http://h2:8000/v1" MODEL=served-name bash eval/predict.sh
#   bash eval/predict.sh --help                                            # this text
#
# Environment: MODEL (required), BENCHMARKS_DIR (outputs/benchmarks), OUT (outputs/predictions), BACKEND
# (vllm, hf or openai; vllm), TEMPLATE (auto: the format the model was trained on, else deepseek-qwen),
# BENCHMARKS (all four), SEEDS (42), PRESET (none = the original's sampling), MAX_TOKENS (30000), TP (2 GPUs
# per replica, as the original), DP (1 replica), BASE_URLS, DEVICE (gpu; cpu runs vLLM's CPU build from
# .venv-vllm, made by `bash scripts/setup_vllm.sh`, one replica, TP=1), MEMORY (the share of memory vLLM
# reserves: of each GPU, 0.9; on CPU, of the node's RAM, 0.3), DRY_RUN=1 (print the commands, run nothing,
# on any machine). Extra arguments go to the predict stage (`python -m long1k predict --help`), e.g.
# --thinking_budget 4000 or --dtype bfloat16.
#
# GPUs: replicas take the GPUs in CUDA_VISIBLE_DEVICES when it is set (Slurm, containers), else all of
# the node's (nvidia-smi); DP x TP must not exceed them. Replica i gets GPUs i*TP .. i*TP+TP-1 of that list.
#
# Several nodes: start one server per node and point one client at all of them; requests are shared
# through one queue, and a server that dies is left out while the others go on:
#   node k:  vllm serve MODEL --served-model-name long1k -tp 2 --port 8000 --max-model-len 32768 --seed 0
#   client:  BACKEND=openai MODEL=long1k BASE_URLS="http://node1:8000/v1 http://node2:8000/v1" \
#            bash eval/predict.sh --tokenizer MODEL
# (vLLM's CPU build has no `vllm serve`: python -m vllm.entrypoints.openai.api_server --model MODEL ...)
set -euo pipefail
if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  exit 0
fi
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="${MODEL:?set MODEL to a model folder or hub id (bash eval/predict.sh --help)}"
BACKEND="${BACKEND:-vllm}"
DEVICE="${DEVICE:-gpu}"
DP="${DP:-1}"
run() { if [ -n "${DRY_RUN:-}" ]; then echo "${CUDA_VISIBLE_DEVICES:+CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES }$*"; else "$@"; fi; }

if [ "$DEVICE" != gpu ] && [ "$DEVICE" != cpu ]; then
  echo "error: DEVICE must be gpu or cpu, not '$DEVICE'" >&2
  exit 2
fi
if [ "$DEVICE" = cpu ]; then TP="${TP:-1}"; else TP="${TP:-2}"; fi
if ! [[ "$TP" =~ ^[0-9]+$ && "$DP" =~ ^[0-9]+$ ]]; then
  echo "error: TP and DP must be whole numbers, not TP='$TP' DP='$DP'" >&2
  exit 2
fi
if [ "$DEVICE" = cpu ] && [ "$BACKEND" = vllm ] && (( TP != 1 || DP != 1 )); then
  echo "error: DEVICE=cpu runs one vLLM replica on the CPU: TP=1 and DP=1, not TP=$TP DP=$DP" >&2
  exit 2
fi

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

if [ "$DEVICE" = cpu ]; then
  python="${LONG1K_VLLM_VENV:-$REPO/.venv-vllm}/bin/python"
  if [ ! -x "$python" ] && [ -z "${DRY_RUN:-}" ]; then
    echo "error: $python not found: vLLM's CPU build lives in its own environment; run bash scripts/setup_vllm.sh" >&2
    exit 2
  fi
  CUDA_VISIBLE_DEVICES="" run "$python" -m long1k predict "${args[@]}" --gpu_memory_utilization "${MEMORY:-0.3}" "$@"
  exit
fi
[ -n "${MEMORY:-}" ] && args+=(--gpu_memory_utilization "$MEMORY")

if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
  IFS=, read -r -a gpus <<< "$CUDA_VISIBLE_DEVICES"
elif command -v nvidia-smi > /dev/null; then
  mapfile -t gpus < <(nvidia-smi --query-gpu=index --format=csv,noheader)
elif [ -n "${DRY_RUN:-}" ]; then
  mapfile -t gpus < <(seq 0 $((DP * TP - 1)))
  echo "dry run: no GPU here; the commands as on a node with GPUs ${gpus[*]}" >&2
else
  echo "error: no GPU found (CUDA_VISIBLE_DEVICES unset, no nvidia-smi); the vllm backend needs GPUs here," \
       "or DEVICE=cpu for vLLM's CPU build (bash scripts/setup_vllm.sh), or BACKEND=hf" >&2
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
