#!/usr/bin/env bash
# The desktop app's tests: its configuration (CSP, capabilities, versions, profiles), its wiring on
# Tauri's mock runtime, and the real app in a real window (Xvfb + tauri-driver + WebKitWebDriver).
#
# Sets up what is missing first: system packages (scripts/desktop-deps.sh), tauri-driver, the built
# UI (ui/dist). Every cargo call uses the same workspace and feature set, so nothing is rebuilt
# between them. Prints the cargo test summary; exits non-zero when a test fails.
#
#   scripts/desktop-test.sh
#
# Environment: CARGO_TARGET_DIR (default /var/cache/zk-agent/target); CI=true turns a missing
# prerequisite into a failure instead of a skip (the script installs them, so this only bites when
# an install failed).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$CARGO_TARGET_DIR"
# The same in every cargo call of this script (and best in scripts/test.sh too): a different
# feature set or package selection rebuilds tauri and everything that depends on it.
CARGO_FLAGS=(--workspace --locked --features zk-agent-desktop/custom-protocol)
TAURI_DRIVER_VERSION=2.1.0

echo "== desktop: system packages"
scripts/desktop-deps.sh

echo "== desktop: tauri-driver"
export PATH="$PATH:$HOME/.cargo/bin"
if command -v tauri-driver >/dev/null && cargo install --list | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
    echo "tauri-driver $TAURI_DRIVER_VERSION present"
else
    # Pinned: crates.io's newest tauri-driver is a 3.0 alpha. Its own target dir, so it does not
    # disturb the workspace's build cache.
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR/tauri-driver" \
        cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
fi

echo "== desktop: ui/dist"
if [[ -f ui/dist/index.html ]]; then
    echo "ui/dist present (delete it to rebuild)"
else
    (cd ui && npm ci --no-audit --no-fund && npm run build)
fi

echo "== desktop: build (custom-protocol: the app embeds ui/dist)"
cargo build "${CARGO_FLAGS[@]}" --all-targets

echo "== desktop: virtual display"
source scripts/xvfb.sh
start_xvfb

echo "== desktop: tests"
output="$CARGO_TARGET_DIR/desktop-test-output.txt"
set +e
# A private session bus for the run (single-instance, notifications, WebKit's accessibility bus);
# it ends with the tests, taking any daemon it started with it.
dbus-run-session -- cargo test "${CARGO_FLAGS[@]}" \
    --test desktop --test desktop_wiring \
    -- --include-ignored --show-output 2>&1 | grep -v "^dbus-daemon\[" | tee "$output"
status=${PIPESTATUS[0]}
set -e

echo "== desktop: summary"
grep -E "^test result:|Running |SKIPPED|desktop window:" "$output" | sed 's/^/  /' || true
if [[ -f "$CARGO_TARGET_DIR/desktop-screenshots/main.png" ]]; then
    echo "  screenshot: $CARGO_TARGET_DIR/desktop-screenshots/main.png"
fi
exit "$status"
