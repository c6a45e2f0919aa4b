#!/usr/bin/env bash
# R1 in full (CHECKLISTS.md): `zk-agent serve` SIGKILLed at random moments while it syncs 1,000
# objects of 1 KB–20 MB to SeaweedFS, 200 cycles; CI runs the same test with 20 cycles and 60 objects.
#
#   bench/sync-kill.sh [cycles, default 200] [objects, default 1000]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
eval "$(scripts/seaweedfs.sh start)"
FLAGS=(--workspace --locked --features zk-agent-desktop/custom-protocol)
cargo build "${FLAGS[@]}" --all-targets 2>&1 | tail -n1
ZK_R1_CYCLES="${1:-200}" ZK_R1_OBJECTS="${2:-1000}" CI=true \
  cargo test "${FLAGS[@]}" -p zk-tests --test integration sync::killed_at_random_moments -- --nocapture 2>&1 \
  | grep -E "^R1:|test result|panicked"
