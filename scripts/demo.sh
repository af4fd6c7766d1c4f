#!/usr/bin/env bash
# From a fresh machine to a finished run: installs libtorch (once per machine), builds retort
# in release mode and runs an experiment (default experiments/cartpole.toml). Extra arguments
# go to `retort run`, e.g. `scripts/demo.sh experiments/gridworld.toml --seed 3`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
cargo build --release --locked --quiet
experiment=${1:-experiments/cartpole.toml}
shift || true
exec "${CARGO_TARGET_DIR:-target}/release/retort" run "$experiment" "$@"
