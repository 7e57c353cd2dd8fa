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

# The mmcv wheel is built against one torch (its C++ ABI) and with or without
# CUDA kernels, so the cache is keyed by mmcv version, torch version and CUDA
# version: a CPU-only wheel is never reused on a GPU machine.  CUDA kernels are
# built when torch has CUDA and a CUDA compiler (nvcc) is found.
read -r TORCH_KEY TORCH_CUDA < <("$PY" -c "import torch; v = torch.__version__.split('+')[0]; c = torch.version.cuda or ''; print(f'torch{v}', c or '-')")
NVCC="$(command -v nvcc || true)"
[ -z "$NVCC" ] && [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ] && NVCC="$CUDA_HOME/bin/nvcc"
if [ "$TORCH_CUDA" != "-" ] && [ -n "$NVCC" ]; then
    OPS_KIND="cu${TORCH_CUDA//./}"; FORCE_CUDA=1
elif [ "$TORCH_CUDA" != "-" ]; then
    OPS_KIND="cpuops"; FORCE_CUDA=0
    echo "warning: torch has CUDA $TORCH_CUDA but no nvcc was found (PATH, CUDA_HOME):" \
         "building mmcv's ops WITHOUT their CUDA kernels" >&2
else
    OPS_KIND="cpu"; FORCE_CUDA=0
fi
WHEEL_DIR="$WHEELHOUSE/mmcv-$MMCV_VERSION-$TORCH_KEY-$OPS_KIND"
mkdir -p "$WHEEL_DIR"
# Wheels cached before the key existed were built here on CPU-only torch.
if [ "$OPS_KIND" = "cpu" ] && ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1 \
        && ls "$WHEELHOUSE"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
    mv "$WHEELHOUSE"/mmcv-"$MMCV_VERSION"-*.whl "$WHEEL_DIR"/
fi

build_mmcv() {
    step "building mmcv $MMCV_VERSION with ops for $TORCH_KEY ($OPS_KIND; one time, about 4 minutes on 2 cores without CUDA)"
    jobs="$(nproc 2>/dev/null || echo 2)"
    # -v streams one line per compiled file so progress is visible.
    MMCV_WITH_OPS=1 FORCE_CUDA="$FORCE_CUDA" MAX_JOBS="$jobs" CFLAGS="-g0" CXXFLAGS="-g0" \
        "${PIP[@]}" wheel -v --no-deps --no-build-isolation --no-binary mmcv \
        -w "$WHEEL_DIR" "mmcv==$MMCV_VERSION" 2>&1 \
        | sed -u -nE 's#^ *(\[[0-9]+/[0-9]+\]) .* -c (/[^ ]*/)?([^ /]+\.(cpp|cu)) .*#  \1 \3#p; /Created wheel|[Ee]rror:/p' || true
    ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1 \
        || { echo "mmcv build failed; rerun with: MMCV_WITH_OPS=1 FORCE_CUDA=$FORCE_CUDA pip wheel -v --no-build-isolation mmcv==$MMCV_VERSION" >&2; exit 1; }
}

if ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
    step "mmcv $MMCV_VERSION wheel for $TORCH_KEY ($OPS_KIND) found in $WHEEL_DIR (no rebuild)"
else
    build_mmcv
fi

step "installing mmpanoptic and its requirements"
"${PIP[@]}" install --progress-bar on --find-links "$WHEEL_DIR" \
    "mmcv==$MMCV_VERSION" -e "$ROOT[$EXTRAS]"
# A cached wheel that does not load with this torch is rebuilt once.
if ! "$PY" -c "from mmcv.ops import nms" >/dev/null 2>&1; then
    echo "the cached mmcv wheel does not load with this torch: rebuilding it" >&2
    rm -f "$WHEEL_DIR"/mmcv-*.whl
    build_mmcv
    "${PIP[@]}" install --force-reinstall --no-deps "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl
fi
"$PY" -c "from mmcv.ops import get_compiling_cuda_version as v; k = v(); print('mmcv ops: CUDA kernels ' + ('built with CUDA ' + k if k != 'not available' else 'not built (CPU only)'))"

if [[ ",$EXTRAS," == *",tests,"* ]]; then
    step "installing the official panopticapi (panopticapi-lite, --no-deps: its numpy<2 pin is stale)"
    "${PIP[@]}" install --progress-bar on --no-deps 'panopticapi-lite==0.2.0'
    step "installing open_clip and timm (the CLIP towers' reference; --no-deps: their torchvision does not load with the CPU torch, and the reference process never uses it)"
    "${PIP[@]}" install --progress-bar on --no-deps 'open-clip-torch==3.3.0' 'timm==1.0.31'
    step "installing cityscapesscripts (the Cityscapes converter's reference; --no-deps: its viewers' dependencies are not needed)"
    "${PIP[@]}" install --progress-bar on --no-deps 'cityscapesscripts==2.3.0'
fi

if [[ ",$EXTRAS," == *",tests,"* ]] && ! { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }; then
    # The web demo's test drives the page in headless Chromium with Selenium:
    # Debian's browser and its matching driver (nothing downloaded by Selenium).
    step "installing Chromium and its driver (Debian: chromium, chromium-driver) for the web demo's browser test"
    SUDO=()
    [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && SUDO=(sudo -n)
    if command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || [ ${#SUDO[@]} -gt 0 ]; } \
            && "${SUDO[@]}" apt-get update -qq \
            && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium chromium-driver >/dev/null; then
        chromium --version
    else
        echo "warning: could not install chromium / chromium-driver with apt-get; the browser" \
             "test of tools/demo/web_demo.py is skipped outside CI and fails in CI" >&2
    fi
fi

step "checking the installation"
"$PY" -m mmpanoptic.utils.collect_env --short
echo "setup finished in $(( $(date +%s) - start )) s"
