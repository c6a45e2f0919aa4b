#!/usr/bin/env bash
# CAD bombs (issue 12 item 4): peak memory of `zk-agent serve` drawing two tiny DXF files that
# describe billions of block instances: one 32767 × 32767 MINSERT of a one-line block, and 30
# levels of nested 2 × 2 arrays. For each bomb and each operation (the viewer's scene, the SVG and
# the PNG export 4000 pixels wide, three SVG and three PNG exports at once), a fresh server on a
# fresh SQLite data dir is given the uploaded drawing and asked once; the table prints the
# server's VmHWM (peak RSS) after the operation, the HTTP status and the time. Loopback only.
#
#   bench/cad-bombs.sh [path to zk-agent, default the release build] [operations, default all] [export width, default 4000]
#
# operations: scene svg png svg3 png3 (space-separated, quoted)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
bin="${1:-$CARGO_TARGET_DIR/release/zk-agent}"
operations="${2:-scene svg png svg3 png3}"
width="${3:-4000}"
password='bench passphrase that is long enough'
work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

# The bombs, written here as the integration tests write them (tests/integration/cad_library.rs).
python3 - "$work" <<'EOF'
import sys
out = sys.argv[1]
def dxf(blocks, entities):
    return "0\nSECTION\n2\nBLOCKS\n" + blocks + "0\nENDSEC\n0\nSECTION\n2\nENTITIES\n" + entities + "0\nENDSEC\n0\nEOF\n"
line = "0\nLINE\n8\n0\n10\n0\n20\n0\n11\n1\n21\n1\n"
minsert = lambda block, n, spacing: f"0\nINSERT\n8\n0\n2\n{block}\n10\n0\n20\n0\n70\n{n}\n71\n{n}\n44\n{spacing}\n45\n{spacing}\n"
block = lambda name, body: f"0\nBLOCK\n8\n0\n2\n{name}\n70\n0\n10\n0\n20\n0\n" + body + "0\nENDBLK\n"
open(f"{out}/array.dxf", "w").write(dxf(block("B", line), minsert("B", 32767, 2)))
levels = [block("L0", line)] + [block(f"L{k}", minsert(f"L{k-1}", 2, 2 ** (k + 1))) for k in range(1, 31)]
open(f"{out}/nested.dxf", "w").write(dxf("".join(levels), minsert("L30", 1, 1)))
EOF

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {
  "$bin" serve >>"$data/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/api/health" >/dev/null && return; sleep 0.1; done
  echo "the server did not start: $(tail -5 "$data/serve.log")" >&2; exit 1
}
token() {
  curl -sf -H 'content-type: application/json' -d "{\"username\":\"bench\",\"password\":\"$password\"}" \
    "http://127.0.0.1:$PORT/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
hwm_mib() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$server_pid/status"; }

printf '| bomb | size | operation | status | seconds | peak RSS (VmHWM) |\n|---|---:|---|---|---:|---:|\n'
for bomb in array nested; do
  size=$(stat -c %s "$work/$bomb.dxf")
  for op in $operations; do
    data="$work/data-$bomb-$op"; mkdir -p "$data"
    PORT=$(free_port)
    export ZK_DATA_DIR="$data" DATABASE_URL="sqlite://$data/zk-agent.db" PORT TASK_WORKERS=0 LOG_LEVEL=warn
    printf '%s\n' "$password" | "$bin" users create --username bench --role admin --password-stdin >/dev/null 2>&1
    # The upload reads the drawing (facts, thumbnail); the operation is measured on a fresh server.
    start_server
    id=$(curl -sf -H "authorization: Bearer $(token)" --data-binary "@$work/$bomb.dxf" \
      "http://127.0.0.1:$PORT/api/cad/drawings?name=$bomb.dxf" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    stop_server
    start_server
    auth="authorization: Bearer $(token)"
    base="http://127.0.0.1:$PORT/api/cad/drawings/$id"
    case "$op" in
      scene) urls=("$base/scene") ;;
      svg) urls=("$base/render?format=svg&width=$width") ;;
      png) urls=("$base/render?format=png&width=$width") ;;
      svg3) urls=("$base/render?format=svg&width=$width" "$base/render?format=svg&width=$width" "$base/render?format=svg&width=$width") ;;
      png3) urls=("$base/render?format=png&width=$width" "$base/render?format=png&width=$width" "$base/render?format=png&width=$width") ;;
    esac
    started=$(date +%s.%N)
    pids=(); i=0
    for url in "${urls[@]}"; do
      curl -s -o /dev/null -w '%{http_code}' -H "$auth" --max-time 300 "$url" >"$data/status-$i" &
      pids+=($!); i=$((i + 1))
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    seconds=$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")
    status=$(for f in "$data"/status-*; do cat "$f"; echo; done | paste -sd/)
    printf '| %s | %s B | %s | %s | %s | %s MiB |\n' "$bomb" "$size" "$op" "$status" "$seconds" "$(hwm_mib)"
    stop_server
  done
done
