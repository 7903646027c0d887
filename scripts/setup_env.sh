#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment with the CPU requirement set.
# Sourced by demo.sh and test.sh; re-installs only when a requirements file changed.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LONG1K_VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.long1k-requirements"
want="$(cat "$REPO/requirements-cpu.txt" "$REPO/requirements-dev.txt" "$REPO/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing requirements into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$REPO/requirements-cpu.txt" -r "$REPO/requirements-dev.txt"
  "$VENV/bin/python" -m pip install --quiet --no-deps -e "$REPO"
  echo "$want" > "$stamp"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
# The embedded default never needs the hub; a hub call here would hang until a network timeout.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export TOKENIZERS_PARALLELISM="${TOKENIZERS_PARALLELISM:-true}"
