#!/usr/bin/env bash
# Long1K SFT launcher: torchrun over NPROC_PER_NODE processes per node, NNODES nodes.
#
#   bash train/sft.sh                                   # 8 GPUs, the launch-script recipe
#   RECIPE=train/recipes/long1k_released.yaml bash train/sft.sh
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash train/sft.sh     # on each node, with its NODE_RANK
#   bash train/sft.sh --learning_rate 1e-5 --resume true            # extra flags go to train/sft.py
#
# Environment: NPROC_PER_NODE (8), NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# MASTER_PORT (29500), RECIPE, MODEL, DATA, OUTPUT_DIR, DEEPSPEED, LOG_FILE.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

NPROC_PER_NODE="${NPROC_PER_NODE:-8}"
NNODES="${NNODES:-1}"
NODE_RANK="${NODE_RANK:-0}"
MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}"
MASTER_PORT="${MASTER_PORT:-29500}"
RECIPE="${RECIPE:-$REPO/train/recipes/long1k_launch.yaml}"

args=(--config "$RECIPE")
[ -n "${MODEL:-}" ] && args+=(--model_name_or_path "$MODEL")
[ -n "${DATA:-}" ] && args+=(--dataset "$DATA")
[ -n "${OUTPUT_DIR:-}" ] && args+=(--output_dir "$OUTPUT_DIR")
[ -n "${DEEPSPEED:-}" ] && args+=(--deepspeed "$DEEPSPEED")
args+=("$@")

# The log goes beside the checkpoints unless LOG_FILE says otherwise.
out="${OUTPUT_DIR:-$(python - "$RECIPE" "$@" <<'PY'
import sys, yaml
out = (yaml.safe_load(open(sys.argv[1])) or {}).get("output_dir", "outputs/sft")
argv = sys.argv[2:]
for i, arg in enumerate(argv[:-1]):
    if arg in ("--output_dir", "--output-dir"):
        out = argv[i + 1]
print(out)
PY
)}"
mkdir -p "$out"
LOG_FILE="${LOG_FILE:-$out/train-node$NODE_RANK.log}"

export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
echo "sft: $NNODES node(s) x $NPROC_PER_NODE processes, recipe $RECIPE, log $LOG_FILE"
set -o pipefail
torchrun --nnodes "$NNODES" --node_rank "$NODE_RANK" --nproc_per_node "$NPROC_PER_NODE" \
  --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT" \
  "$REPO/train/sft.py" "${args[@]}" 2>&1 | tee -a "$LOG_FILE"
