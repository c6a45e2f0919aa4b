#!/usr/bin/env bash
# How long the system packages that scripts/test.sh and scripts/run.sh install take on a fresh
# Debian 12: a minimal Debian 12 is bootstrapped into a scratch folder (not timed), then the same
# package groups are installed in it with apt-get, in the order the scripts install them, each timed
# (download, unpack, configure). Needs root and debootstrap; uses the machine's Debian mirror.
#
#   bench/fresh-apt.sh [SCRATCH_DIR]      (default: a new folder under /var/tmp, removed at the end)
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-$(mktemp -d /var/tmp/fresh-debian.XXXXXX)}"
mirror="$(sed -n 's/^URIs: \(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
mirror="${mirror:-http://deb.debian.org/debian}"

cleanup() {
    umount "$root/proc" "$root/dev/pts" "$root/dev" 2>/dev/null || true
    [[ -z "${1:-}" ]] && rm -rf "$root"
}
trap 'cleanup "${1:-}"' EXIT

echo "== bootstrapping Debian 12 (minbase) into $root from $mirror (not timed)"
started=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
echo "   $(( $(date +%s) - started )) s"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
timed() {
    local label="$1"; shift
    local before=$EPOCHREALTIME
    # apt's notes about its sandbox user and debconf's about apt-utils are not results.
    in_root "$@" >/dev/null 2>&1
    awk -v label="$label" -v a="$before" -v b="$EPOCHREALTIME" 'BEGIN { printf "| %s | %.0f s |\n", label, b - a }'
}

echo "== the scripts' package groups, in their order"
echo "| step | time |"
echo "|---|---:|"
timed "apt-get update" apt-get update -qq
# scripts/test.sh: the browser and CJK fonts
timed "chromium fonts-noto-cjk (browser tests)" apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk
# scripts/desktop-deps.sh: build and window packages
timed "libdbus-1-dev pkg-config libwebkit2gtk-4.1-dev xvfb webkit2gtk-driver dbus (desktop-deps.sh)" \
    apt-get install -y -qq --no-install-recommends libdbus-1-dev pkg-config libwebkit2gtk-4.1-dev xvfb webkit2gtk-driver dbus
# scripts/test.sh: the OS keychain for the key store's tests
timed "gnome-keyring dbus keyutils (keychain tests)" apt-get install -y -qq --no-install-recommends gnome-keyring dbus keyutils
echo "== installed: $(in_root dpkg-query -W -f='.\n' | wc -l) packages, $(du -shx "$root" 2>/dev/null | cut -f1) in the root"
