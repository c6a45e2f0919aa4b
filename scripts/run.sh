#!/usr/bin/env bash
# Every set-up step, then the product: the UI is built, and then
#   - with a display (DISPLAY or WAYLAND_DISPLAY set): the desktop app, with the core and its server
#     inside it;
#   - without one: `zk-agent serve` on the offline defaults (SQLite and a file store in the OS data
#     directory), which prints the URL to open in a browser and how to sign in.
# It says which it starts and where. `--desktop` or `--server` forces either; other arguments go to
# `zk-agent serve` (e.g. scripts/run.sh --server --port 3100).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
mkdir -p "$CARGO_TARGET_DIR"

mode=auto
serve_args=()
for argument in "$@"; do
  case "$argument" in
    --desktop) mode=desktop ;;
    --server) mode=server ;;
    *) serve_args+=("$argument") ;;
  esac
done
if [ "$mode" = auto ]; then
  if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then mode=desktop; else mode=server; fi
fi

echo "== building the UI (ui/dist)"
(cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build)

if [ "$mode" = desktop ]; then
  if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
    echo "error: --desktop needs a display (DISPLAY or WAYLAND_DISPLAY); use --server for the browser UI" >&2
    exit 2
  fi
  echo "== building the desktop app (release; the first build compiles every dependency and takes several minutes, cargo shows its progress; later builds take seconds)"
  scripts/desktop-deps.sh --build
  cargo build --release --locked -p zk-agent-desktop --bins --features tauri/custom-protocol
  echo "== starting the desktop app on display ${DISPLAY:-$WAYLAND_DISPLAY} (its data: the OS data directory, or ZK_DATA_DIR)"
  exec "$CARGO_TARGET_DIR/release/zk-agent-desktop"
fi

echo "== building zk-agent (release, with the UI inside; the first build compiles every dependency and takes several minutes, cargo shows its progress; later builds take seconds)"
scripts/desktop-deps.sh --core
cargo build --release --locked -p zk-server --bin zk-agent
echo "== starting the local server (no display, or --server): open the URL below in a browser"
exec "$CARGO_TARGET_DIR/release/zk-agent" serve "${serve_args[@]}"
