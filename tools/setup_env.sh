#!/usr/bin/env bash
# Sets up a virtual environment for mmpanoptic on a fresh machine.
#
#   bash tools/setup_env.sh            # creates .venv (or $MMPANOPTIC_VENV)
#
# The slow part is mmcv 2.1.0: PyPI has it only as source and it compiles 77 C++
# files.  We build it once into a wheelhouse outside the repository
# ($MMPANOPTIC_WHEELHOUSE, default ~/.cache/mmpanoptic/wheels) and install from
# there on every later run, so a second setup never recompiles.  The build uses
# ninja with MAX_JOBS=<cores> and CFLAGS=-g0 (no debug info, ~2x faster per file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMPANOPTIC_VENV:-$ROOT/.venv}"
WHEELHOUSE="${MMPANOPTIC_WHEELHOUSE:-$HOME/.cache/mmpanoptic/wheels}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION="2.1.0"
EXTRAS="${MMPANOPTIC_EXTRAS:-tests}"

step() { printf '\n\033[1;34m[setup %s] %s\033[0m\n' "$(date +%H:%M:%S)" "$*"; }
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
    step "creating virtual environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

step "installing torch and build tools"
"${PIP[@]}" install --progress-bar on 'torch==2.13.0' -r "$ROOT/requirements/build.txt"

mkdir -p "$WHEELHOUSE"
if ls "$WHEELHOUSE"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
    step "mmcv $MMCV_VERSION wheel found in $WHEELHOUSE (no rebuild)"
else
    step "building mmcv $MMCV_VERSION with ops (one time, about 4 minutes on 2 cores)"
    jobs="$(nproc 2>/dev/null || echo 2)"
    # -v streams one line per compiled file so progress is visible.
    MMCV_WITH_OPS=1 MAX_JOBS="$jobs" CFLAGS="-g0" CXXFLAGS="-g0" \
        "${PIP[@]}" wheel -v --no-deps --no-build-isolation --no-binary mmcv \
        -w "$WHEELHOUSE" "mmcv==$MMCV_VERSION" 2>&1 \
        | sed -u -nE 's#^ *(\[[0-9]+/[0-9]+\]) .* -c (/[^ ]*/)?([^ /]+\.(cpp|cu)) .*#  \1 \3#p; /Created wheel|[Ee]rror:/p' || true
    ls "$WHEELHOUSE"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1 \
        || { echo "mmcv build failed; rerun with: MMCV_WITH_OPS=1 pip wheel -v --no-build-isolation mmcv==$MMCV_VERSION" >&2; exit 1; }
fi

step "installing mmpanoptic and its requirements"
"${PIP[@]}" install --progress-bar on --find-links "$WHEELHOUSE" \
    "mmcv==$MMCV_VERSION" -e "$ROOT[$EXTRAS]"

if [[ ",$EXTRAS," == *",tests,"* ]]; then
    step "installing the official panopticapi (panopticapi-lite, --no-deps: its numpy<2 pin is stale)"
    "${PIP[@]}" install --progress-bar on --no-deps 'panopticapi-lite==0.2.0'
fi

step "checking the installation"
"$PY" -m mmpanoptic.utils.collect_env --short
echo "setup finished in $(( $(date +%s) - start )) s"
