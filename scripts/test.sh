#!/usr/bin/env bash
# Every set-up step, then every check and test: formatting, lints, the unit tests of each crate and
# the black-box tests (store stories, HTTP API, CLI, faults) on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

# One target directory outside the clone, so repeated runs on one machine build incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$CARGO_TARGET_DIR"

scripts/services.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build (the tests run the zk-agent binary)"
cargo build --workspace --all-targets --locked
echo "== tests"
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$CARGO_TARGET_DIR/test-output.txt"
status=${PIPESTATUS[0]}
echo "== summary"
grep -E "^test result:|Running " "$CARGO_TARGET_DIR/test-output.txt" | sed 's/^/  /' || true
exit "$status"
