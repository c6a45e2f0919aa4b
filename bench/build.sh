#!/usr/bin/env bash
# How long the workspace takes to build and test on this machine, with the third-party crates
# already built (the state after any earlier build): the workspace's own crates from clean, an
# incremental rebuild after a change to one file of zk-core, and the whole `cargo test` (build and
# run). Prints one line per figure; compare two checkouts by running it in each, one after the other,
# on an otherwise idle machine.
#
#   bench/build.sh [TARGET_DIR]      (default: $CARGO_TARGET_DIR or /var/cache/zk-agent/target)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${1:-${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}}"
export CARGO_TERM_COLOR=never
# The same flags as scripts/test.sh, so nothing else is rebuilt.
FLAGS=(--workspace --locked --features zk-agent-desktop/custom-protocol)
packages=()
for name in $(cargo metadata --no-deps --format-version 1 --locked \
  | python3 -c 'import json, sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))'); do
  packages+=(-p "$name")
done

seconds() { # runs "$@" quietly, prints its wall time in seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.1f}')"
}

cargo build "${FLAGS[@]}" --all-targets -q   # third-party crates built, workspace up to date
cargo clean "${packages[@]}" -q
echo "workspace crates from clean (cargo build --all-targets): $(seconds cargo build "${FLAGS[@]}" --all-targets) s"
touch crates/zk-core/src/files.rs
echo "after touching crates/zk-core/src/files.rs: $(seconds cargo build "${FLAGS[@]}" --all-targets) s"
export ZK_CAD_MUTATION_SECS=0
echo "cargo test (build up to date, every test run): $(seconds env CI=true scripts/keyring-session.sh cargo test "${FLAGS[@]}" --no-fail-fast) s"
