#!/usr/bin/env bash
# Every set-up step, then every check and test: formatting and lints (Rust and UI); the unit tests of
# each crate; the black-box tests (store stories, HTTP API, CLI, model API, faults) on SQLite and on
# PostgreSQL; the UI's unit tests and its browser tests against the real server; the desktop app's
# configuration, wiring and real-window tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# One target directory outside the clone, so repeated runs on one machine build incrementally.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/zk-agent/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$CARGO_TARGET_DIR"
# The same in every cargo call here and in scripts/desktop-test.sh: another feature set or package
# selection would rebuild tauri and everything above it.
CARGO_FLAGS=(--workspace --locked --features zk-agent-desktop/custom-protocol)

echo "== services: PostgreSQL and Redis"
scripts/services.sh
echo "== services: SeaweedFS (a real S3-compatible store for the object-storage sync tests)"
s3_env="$(scripts/seaweedfs.sh start)" # a failed start stops here (set -e); eval alone would not
eval "$s3_env"
trap 'scripts/seaweedfs.sh stop' EXIT

# Debian's Chromium for the browser tests (nothing downloads a browser at install time), CJK fonts for
# their screenshots, and the desktop app's build and window packages.
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  echo "== packages: chromium and CJK fonts"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
echo "== packages: desktop"
scripts/desktop-deps.sh
# An OS keychain for the key store's tests (GNOME Keyring on a private session bus, see
# scripts/keyring-session.sh), and libdbus, which keyring's Secret Service backend links against.
keyring_packages=(gnome-keyring dbus keyutils libdbus-1-dev pkg-config)
missing=()
for package in "${keyring_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  echo "== packages: keychain (${missing[*]})"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Prometheus's promtool for the alert rules (deploy/prometheus) and the /metrics scrape
# (tests/integration/metrics.rs). The package's service is not wanted here: policy-rc.d usually keeps
# it from starting, and where it did start it is stopped so nothing stays bound to port 9090.
if ! command -v promtool >/dev/null; then
  echo "== packages: prometheus (promtool)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if pgrep -x prometheus >/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true
  fi
fi
echo "== promtool: alert rules and their unit tests"
promtool check rules deploy/prometheus/rules.yml
promtool test rules deploy/prometheus/rules_test.yml

echo "== UI: install, type check, lint, unit tests, build (ui/dist: served by zk-agent, embedded by the desktop app)"
(cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run --silent typecheck && npm run --silent lint && npm test && npm run --silent build)

echo "== dependency audit (RustSec, npm advisories; each says SKIPPED where its source is unreachable)"
scripts/audit.sh

echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy "${CARGO_FLAGS[@]}" --all-targets -- -D warnings
# --all-targets builds the binaries of every package, among them zk-tests' model-double, which the
# browser tests run beside zk-agent (ui/e2e/server.ts finds both in $CARGO_TARGET_DIR/debug).
echo "== build (the tests run the zk-agent binary; the browser tests also the model-API double)"
cargo build "${CARGO_FLAGS[@]}" --all-targets

echo "== tests (with GNOME Keyring unlocked on a private session bus: the key store's real-keychain tests)"
# zk-cad's mutation fuzzer (crates/zk-cad/tests/corpus.rs) runs for a minute here, over the corpus
# seeds with overflow checks on: read, facts, every layout's scene, the viewer's encoding, PNG.
export ZK_CAD_MUTATION_SECS="${ZK_CAD_MUTATION_SECS:-60}"
set +e
# dbus-daemon's notices about its own set-up are not test output.
scripts/keyring-session.sh cargo test "${CARGO_FLAGS[@]}" --no-fail-fast 2>&1 | grep -v "^dbus-daemon\[" \
  | tee "$CARGO_TARGET_DIR/test-output.txt"
status=${PIPESTATUS[0]}

echo "== browser tests (Playwright, Debian's Chromium, the real zk-agent serve, the model-API double)"
(cd ui && npx playwright test)
e2e_status=$?

echo "== desktop tests (Xvfb, tauri-driver, WebKitWebDriver)"
scripts/desktop-test.sh
desktop_status=$?
set -e

echo "== summary"
grep -E "^test result:|Running |SKIPPED" "$CARGO_TARGET_DIR/test-output.txt" | sed 's/^/  /' || true
echo "  browser tests exit $e2e_status, desktop tests exit $desktop_status"
for s in "$e2e_status" "$desktop_status"; do
  [ "$status" -eq 0 ] && status=$s
done
exit "$status"
