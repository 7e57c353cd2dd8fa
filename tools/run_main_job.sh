#!/usr/bin/env bash
# Set everything up, then train Panoptic FPN on the bundled toy data and
# evaluate it (about 10 minutes on 2 CPU cores once mmcv is built).
#   bash tools/run_main_job.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash tools/setup_env.sh
PY="${MMPANOPTIC_VENV:-$ROOT/.venv}/bin/python"
CFG=configs/panoptic_fpn/panoptic-fpn_r18_fpn_toy.py
WORK=work_dirs/panoptic-fpn_r18_fpn_toy
export PYTHONWARNINGS=ignore

step() { printf '\n\033[1;34m[main job %s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*"; }
if [ ! -f data/toy/annotations/panoptic_val2017.json ]; then
    step "generating the toy panoptic dataset in data/toy"
    "$PY" tools/dataset_converters/make_toy_panoptic.py --out data/toy --num-train 400 --num-val 50
fi
step "training $CFG (1000 steps; the log shows loss and ETA every 25 steps)"
"$PY" tools/train.py "$CFG" --work-dir "$WORK"
step "evaluating the final checkpoint"
"$PY" tools/test.py "$CFG" "$(cat "$WORK/last_checkpoint")" --work-dir "$WORK" \
    --out "$WORK/test_metrics.json"
step "done: metrics in $WORK/test_metrics.json, pictures in $WORK/vis/test/"
