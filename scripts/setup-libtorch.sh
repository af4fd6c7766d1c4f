#!/usr/bin/env bash
# Installs libtorch (from the torch==2.13.0 wheel that tch 0.26 is built against) into a
# per-user cache shared by every checkout, then prints the venv's path on stdout.
#
# The cache lives in $RETORT_TORCH_VENV, or ~/.cache/retort/torch-2.13.0 when unset. A finished
# install is marked by a stamp file, so an interrupted install is redone rather than trusted.
# The same venv carries the Python packages the tests use to read our outputs with the
# official tools (tensorboard, safetensors).
set -euo pipefail

torch_version=2.13.0
venv=${RETORT_TORCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/retort/torch-$torch_version}
stamp="$venv/.retort-complete"

if [[ ! -f $stamp ]]; then
    echo "retort: installing torch==$torch_version into $venv (once per machine, ~1 min)" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "torch==$torch_version" tensorboard safetensors numpy >&2
    touch "$stamp"
fi
echo "$venv"
