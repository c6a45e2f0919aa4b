#!/usr/bin/env bash
# Every set-up step, then the product: `zk-agent serve` on the offline defaults (SQLite and a file
# store in the OS data directory), printing the URL and how to sign in. Extra arguments go to serve,
# e.g. scripts/run.sh --port 3100.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
mkdir -p "$CARGO_TARGET_DIR"
cargo build --release --locked -p zk-server --bin zk-agent
exec "$CARGO_TARGET_DIR/release/zk-agent" serve "$@"
