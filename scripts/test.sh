#!/usr/bin/env bash
# Set up the environment if missing, lint, and run the test suite (offline, CPU).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
ruff check .
python -m pytest "$@"
