#!/usr/bin/env bash
# Long1K SFT launcher: torchrun over NPROC_PER_NODE processes per node, NNODES nodes
# (an alias of `python -m long1k launch-train`, which does the work).
#
#   bash train/sft.sh                                   # 8 GPUs, the launch-script recipe
#   RECIPE=train/recipes/long1k_released.yaml bash train/sft.sh
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash train/sft.sh     # on each node, with its NODE_RANK
#   bash train/sft.sh --learning_rate 1e-5 --resume true            # extra flags go to the train stage
#
# Environment: NPROC_PER_NODE (8), NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# MASTER_PORT (one node: a free port; several: 29500), RECIPE (train/recipes/long1k_launch.yaml), MODEL, DATA, OUTPUT_DIR, DEEPSPEED, LOG_FILE.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RECIPE="${RECIPE:-$REPO/train/recipes/long1k_launch.yaml}"
exec python -m long1k launch-train "$@"
