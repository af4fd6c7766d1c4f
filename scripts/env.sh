# Source this file (`source scripts/env.sh`) to get a shell in which plain `cargo build`,
# `cargo test` and `cargo run` find libtorch. It installs libtorch on first use (see
# scripts/setup-libtorch.sh). Binaries carry an rpath, so running them needs nothing exported.
_retort_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_retort_venv=$("$_retort_root/scripts/setup-libtorch.sh") || return 1
export RETORT_PYTHON="$_retort_venv/bin/python"
LIBTORCH=$("$RETORT_PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
export LIBTORCH
export LIBTORCH_CXX11_ABI=1
unset _retort_root _retort_venv
