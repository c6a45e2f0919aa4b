#!/usr/bin/env bash
# The desktop app against an empty Tauri 2 window, in one run under Xvfb: time from launch to the
# first rendered view, and memory (PSS summed over the app and its WebKit processes) after 10 s idle.
# Both are release builds with the custom-protocol feature and the same tauri version; see
# bench/README.md ("Desktop app") for the method and bench/desktop_measure.py for the details.
#
#   bench/desktop.sh [measured rounds, default 3] [idle seconds, default 10]
#
# Results: printed, and as JSON in bench/results/desktop-<time>.json (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
idle="${2:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
export PATH="$PATH:$HOME/.cargo/bin"

scripts/desktop-deps.sh
if ! command -v tauri-driver >/dev/null; then
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR/tauri-driver" cargo install tauri-driver --locked --version 2.1.0
fi
if [[ ! -f ui/dist/index.html ]]; then
    (cd ui && npm ci --no-audit --no-fund && npm run build)
fi

echo "== release builds"
# The same cargo invocation as `npx tauri build` uses, so the two share their artifacts.
cargo build --release --locked -p zk-agent-desktop --bins --features tauri/custom-protocol 2>&1 | tail -n1
# The baseline has its own target directory (it is not a workspace member) under the shared one.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/empty-window" \
    cargo build --release --locked --manifest-path bench/empty-window/Cargo.toml 2>&1 | tail -n1
ours="$CARGO_TARGET_DIR/release/zk-agent-desktop"
empty="$CARGO_TARGET_DIR/empty-window/release/empty-window"

tauri_version() { grep -A1 '^name = "tauri"$' "$1" | sed -n 's/^version = "\(.*\)"/\1/p'; }
v_ours=$(tauri_version Cargo.lock)
v_empty=$(tauri_version bench/empty-window/Cargo.lock)
if [[ "$v_ours" != "$v_empty" ]]; then
    echo "tauri differs: $v_ours (app) vs $v_empty (empty window); align bench/empty-window/Cargo.lock" >&2
    exit 1
fi
echo "tauri $v_ours in both; binaries: $(du -h "$ours" | cut -f1) (app), $(du -h "$empty" | cut -f1) (empty)"

echo "== measure (Xvfb, $rounds rounds after a warm-up, $idle s idle)"
source scripts/xvfb.sh
start_xvfb
mkdir -p bench/results
out="bench/results/desktop-$(date -u +%Y%m%dT%H%M%SZ).json"
# A private session bus, as the tests use; it ends with the run.
dbus-run-session -- python3 bench/desktop_measure.py --runs "$rounds" --idle "$idle" --out "$out" \
    "app=$ours=a[data-nav='tasks']" "empty=$empty=#ready" 2>&1 | grep -v "^dbus-daemon\["
