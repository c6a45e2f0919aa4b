#!/usr/bin/env bash
# Object-storage sync against a plain object_store client to the same SeaweedFS, and the memory of
# the sync while it uploads one large file. See bench/README.md ("Object-storage sync").
#
#   bench/sync.sh [files, default 1000] [large file MiB, default 2048] [profile: release (default) or debug]
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-1000}"
big="${2:-2048}"
profile="${3:-release}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
eval "$(scripts/seaweedfs.sh start)"
if [ "$profile" = release ]; then
  cargo build --release --locked -p zk-tests --bin sync-bench 2>&1 | tail -n1
fi
bin="$CARGO_TARGET_DIR/$profile/sync-bench"
"$bin" throughput "$files"
# /usr/bin/time's maximum resident size beside the program's own VmHWM.
/usr/bin/time -v "$bin" big "$big" 2>&1 | grep -E "MiB|Maximum resident"
