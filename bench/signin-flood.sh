#!/usr/bin/env bash
# Sign-in flood (issue 12 item 1): for 16 and 48 clients, a fresh `zk-agent serve` on SQLite is
# flooded for 15 s with sign-ins of made-up names while the owner signs in once a second from their
# own client (device cookie); prints peak RSS (VmHWM), answers and checked passwords per second, and
# the owner's latency. Loopback only.
#
#   bench/signin-flood.sh [path to zk-agent, default the debug build] [seconds, default 15] [RSS limit MiB, default 4096]
#
# The debug build is fine: the dev profile optimises the argon2 crates (see Cargo.toml profiles).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
bin="${1:-$CARGO_TARGET_DIR/debug/zk-agent}"
seconds="${2:-15}"
rss_limit="${3:-4096}"
password='bench passphrase that is long enough'
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true; }
trap cleanup EXIT

for clients in 16 48; do
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export ZK_DATA_DIR="$data" DATABASE_URL="sqlite://$data/zk-agent.db" PORT="$port" TASK_WORKERS=0 LOG_LEVEL=warn
  printf '%s\n' "$password" | "$bin" users create --username owner-bench --role admin --password-stdin >/dev/null
  "$bin" serve >"$data/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
  python3 bench/signin_flood.py --port "$port" --pid "$server_pid" --clients "$clients" --seconds "$seconds" \
    --owner owner-bench --password "$password" --rss-limit-mib "$rss_limit"
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -rf "$data"
done
