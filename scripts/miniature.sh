#!/usr/bin/env bash
# The paper's experiments in miniature, by real learning, offline, as an instrument: every arm fine-tuned
# from the mini base model (python -m long1k mini-base; built on first use, then cached) at 5 seeds, scored
# on held-out problems, each claim a difference over seeds with its 95% interval and a verdict. Tables (.md,
# .csv) and figures (.png) under $MINIATURE_OUT, gathered in $MINIATURE_OUT/report.md; docs/experiments.md
# holds a measured run. Flags after the script go to `python -m long1k miniature` (--help lists them).
#   MINIATURE_OUT     output folder (outputs/miniature)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
OUT="${MINIATURE_OUT:-outputs/miniature}"
rm -rf "$OUT"
python -m long1k miniature --out "$OUT" "$@"
echo "miniature done in $((SECONDS / 60)) min $((SECONDS % 60)) s: $OUT/report.md"
