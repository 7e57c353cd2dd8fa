#!/usr/bin/env bash
# Set everything up, then run the default test tier (add -m slow for the slow tier).
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
exec "${MMPANOPTIC_VENV:-$ROOT/.venv}/bin/python" -m pytest -ra --durations=10 "$@"
