#!/usr/bin/env bash
# Every test, from a fresh machine: installs libtorch and the Python readers the tests use
# (once per machine), checks formatting and lints, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
cargo fmt --all -- --check
# --release shares the compiled libtorch bindings with the test build below.
cargo clippy --workspace --all-targets --locked --quiet --release -- -D warnings
cargo test --workspace --locked --release
