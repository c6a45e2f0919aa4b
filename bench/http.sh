#!/usr/bin/env bash
# Load benchmark of the local server (release build), 8 concurrent connections, on SQLite and on
# PostgreSQL. Prints requests/s and p50/p99 latency per endpoint, and each p50/p99 as a ratio of the
# baseline: the server's own 404 for an unknown API route (routing, guards and JSON error, no
# database, no token check).
#
#   bench/http.sh [seconds per endpoint, default 20]
#
# ZK_BENCH_BIN=path runs that zk-agent binary instead of building this checkout's (a before/after
# comparison: build the other revision, copy its binary aside, run once with each).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
scripts/services.sh >/dev/null
if [ -n "${ZK_BENCH_BIN:-}" ]; then
  bin="$ZK_BENCH_BIN"
else
  cargo build --release --locked -p zk-server --bin zk-agent 2>&1 | tail -n1
  bin="$CARGO_TARGET_DIR/release/zk-agent"
fi
password='bench passphrase that is long enough'
out="bench/results/http-$(date -u +%Y%m%dT%H%M%SZ).md"
mkdir -p bench/results
server_pid=""
pg_db=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$pg_db" ] && psql -qAt -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null || true
}
trap cleanup EXIT

# wrk's --latency report as "rps p50_ms p99_ms".
measure() {
  local report
  report=$(wrk -t2 -c8 -d"${duration}s" --latency "$@")
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$report")
  p50=$(awk '$1=="50%" {print $2}' <<<"$report")
  p99=$(awk '$1=="99%" {print $2}' <<<"$report")
  errors=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$report")
  echo "$rps $(to_ms "$p50") $(to_ms "$p99") ${errors:-0}"
}
to_ms() { # wrk prints 512.00us, 1.23ms or 2.00s
  awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'
}

{
  echo "# Local server load benchmark"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores, wrk -t2 -c8 -d${duration}s, release build ($bin), TASK_WORKERS=0, LOG_LEVEL=warn"
  echo
  echo "| backend | endpoint | requests/s | p50 ms | p99 ms | p50 / baseline | p99 / baseline | non-2xx |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
} | tee "$out"

for backend in sqlite postgres; do
  data=$(mktemp -d)
  if [ "$backend" = postgres ]; then
    pg_db="zk_bench_$$"
    psql -qAt -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $pg_db" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/$pg_db"
  else
    url="sqlite://$data/zk-agent.db"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  export ZK_DATA_DIR="$data" DATABASE_URL="$url" PORT="$port" TASK_WORKERS=0 LOG_LEVEL=warn
  printf '%s\n' "$password" | "$bin" users create --username bench --role admin --password-stdin >/dev/null
  "$bin" serve >"$data/serve.log" 2>&1 &
  server_pid=$!
  base="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$base/api/health" >/dev/null && break; sleep 0.1; done
  token=$(curl -sf "$base/api/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  for i in $(seq 50); do
    curl -sf "$base/api/tasks" -H "authorization: Bearer $token" -H 'content-type: application/json' \
      -d '{"kind":"diagnostics.selftest","payload":{"steps":1}}' >/dev/null
  done
  export TOKEN="$token"

  read -r b_rps b_p50 b_p99 b_err < <(measure "$base/api/bench-baseline-404")
  row() { # name rps p50 p99 errors
    awk -v be="$backend" -v n="$1" -v r="$2" -v p50="$3" -v p99="$4" -v e="$5" -v b50="$b_p50" -v b99="$b_p99" \
      'BEGIN { printf "| %s | %s | %.0f | %.3f | %.3f | %.2f | %.2f | %s |\n", be, n, r, p50, p99, p50/b50, p99/b99, e }'
  }
  row "baseline: GET /api/unknown (404)" "$b_rps" "$b_p50" "$b_p99" "$b_err" | tee -a "$out"
  read -r rps p50 p99 err < <(measure "$base/api/health")
  row "GET /api/health" "$rps" "$p50" "$p99" "$err" | tee -a "$out"
  read -r rps p50 p99 err < <(measure -H "authorization: Bearer $token" "$base/api/tasks?limit=50")
  row "GET /api/tasks?limit=50 (authenticated list)" "$rps" "$p50" "$p99" "$err" | tee -a "$out"
  read -r rps p50 p99 err < <(measure -H "authorization: Bearer $token" "$base/api/users")
  row "GET /api/users (authenticated list)" "$rps" "$p50" "$p99" "$err" | tee -a "$out"
  read -r rps p50 p99 err < <(measure -s bench/put-config.lua "$base/api/admin/config/bench.value")
  row "PUT /api/admin/config/{key} (write + audit row)" "$rps" "$p50" "$p99" "$err" | tee -a "$out"

  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  if [ -n "$pg_db" ]; then psql -qAt -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE $pg_db WITH (FORCE)" >/dev/null; pg_db=""; fi
  rm -rf "$data"
done
echo
echo "written to $out"
