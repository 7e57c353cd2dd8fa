#!/usr/bin/env bash
# Distributed training with torchrun (mmengine's "pytorch" launcher).
#
#   bash tools/dist_train.sh CONFIG NPROC [tools/train.py options]
#
# NPROC processes on this machine: one per GPU, or CPU processes (gloo) where
# there is no GPU.  Several machines: set NNODES, NODE_RANK, MASTER_ADDR and
# PORT the same way on each.  PYTHON picks the interpreter (default: python).
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
