#!/usr/bin/env bash
# What /metrics costs on the read path: the same release binary serving with METRICS_ENABLED=true and
# with METRICS_ENABLED=false, two servers on their own SQLite databases, wrk runs alternating between
# them (so background load hits both alike); prints each run's p50 and the medians.
#
#   bench/metrics-overhead.sh [rounds, default 7] [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --locked -p zk-server --bin zk-agent 2>&1 | tail -n1
bin="$CARGO_TARGET_DIR/release/zk-agent"
rounds=${1:-7}; secs=${2:-5}

password='bench passphrase that is long enough'
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start() { # enabled -> "port token"
  local data port; data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf '%s\n' "$password" | ZK_DATA_DIR=$data DATABASE_URL="sqlite://$data/zk.db" "$bin" users create --username bench --role admin --password-stdin >/dev/null
  # Started in the data directory, where no ui/dist is found: without metrics, /metrics answers 404.
  (cd "$data" && exec env ZK_DATA_DIR="$data" DATABASE_URL="sqlite://$data/zk.db" PORT="$port" TASK_WORKERS=0 \
    LOG_LEVEL=warn METRICS_ENABLED="$1" "$bin" serve >"$data/serve.log" 2>&1) &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
  local token; token=$(curl -sf "http://127.0.0.1:$port/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  echo "$port $token $pid"
}
# start runs in a subshell here, so the servers' pids come back with their ports.
read -r on_port on_token on_pid < <(start true)
pids+=("$on_pid")
read -r off_port off_token off_pid < <(start false)
pids+=("$off_pid")
[[ "$(curl -sf "http://127.0.0.1:$on_port/metrics")" == *zk_build_info* ]]
test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$off_port/metrics")" = 404
p50() { wrk -t2 -c8 -d"${secs}s" --latency "$@" | awk '$1=="50%" {v=$2; n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else n*=1000; printf "%.3f", n}'; }
for endpoint in /api/users /api/bench-baseline-404; do
  on=(); off=()
  for r in $(seq "$rounds"); do
    on+=("$(p50 -H "authorization: Bearer $on_token" "http://127.0.0.1:$on_port$endpoint")")
    off+=("$(p50 -H "authorization: Bearer $off_token" "http://127.0.0.1:$off_port$endpoint")")
  done
  python3 - "$endpoint" "${on[*]}" "${off[*]}" <<'P'
import statistics, sys
ep, on, off = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
mon, moff = statistics.median(on), statistics.median(off)
print(f"{ep}: p50 ms metrics on {on} median {mon:.3f}; off {off} median {moff:.3f}; on/off {mon/moff:.3f}")
P
done
