#!/usr/bin/env bash
# Chat benchmarks (release builds): stream overhead through the server's relay against the model
# double's own stream, 100 concurrent streams, and conversation list/search with 10,000 conversations
# and 200,000 messages; on SQLite and PostgreSQL. See bench/README.md.
#
#   bench/chat.sh [conversations, default 10000] [messages per conversation, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
conversations="${1:-10000}"
per="${2:-20}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
scripts/services.sh >/dev/null
cargo build --release --locked -p zk-server -p zk-tests --bin zk-agent --bin model-double --bin chat-bench 2>&1 | tail -n1
bin="$CARGO_TARGET_DIR/release"
out="bench/results/chat-$(date -u +%Y%m%dT%H%M%SZ).md"
mkdir -p bench/results
{
  echo "# Chat benchmark, $(date -u +%FT%TZ), $(nproc) cores, release builds"
  for backend in sqlite postgres; do
    "$bin/chat-bench" --server "$bin/zk-agent" --double "$bin/model-double" --backend "$backend" \
      --conversations "$conversations" --messages-per "$per"
  done
} | tee "$out"
