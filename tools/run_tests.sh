#!/usr/bin/env bash
# Set everything up, then run the default test tier (add -m slow for the slow tier).
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
# The default tier runs in MMPANOPTIC_TEST_WORKERS processes (pytest-xdist;
# default 2, one torch thread each; tests handed out one by one, an idle
# process taking queued ones from the other, so that a file of trainings does
# not keep one process busy alone); the slow tier (-m slow: trainings with
# time limits) runs in one.
workers="${MMPANOPTIC_TEST_WORKERS:-2}"
case " $* " in *slow*) workers=1 ;; esac
parallel=()
if [[ "$workers" -gt 1 ]]; then
    parallel=(-n "$workers" --dist worksteal)
    export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
fi
exec "${MMPANOPTIC_VENV:-$ROOT/.venv}/bin/python" -m pytest -ra --durations=10 ${parallel[@]+"${parallel[@]}"} "$@"
