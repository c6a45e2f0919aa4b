#!/usr/bin/env bash
# System packages the desktop app needs on Debian/Ubuntu: WebKitGTK to build it, and Xvfb,
# WebKitWebDriver and D-Bus to run it in a virtual window under test. Installs only what is missing,
# so it is cheap to run again. `dbus-x11` is left out on purpose: with it GLib starts session daemons
# that outlive the test; window runs are wrapped in `dbus-run-session --` instead.
#
#   scripts/desktop-deps.sh           build and test packages
#   scripts/desktop-deps.sh --build   only what building needs
#   scripts/desktop-deps.sh --core    only what building zk-agent (without the window) needs
set -euo pipefail

# zk-core's OS keychain access (keyring's Secret Service backend) links against libdbus.
core_packages=(libdbus-1-dev pkg-config)
build_packages=("${core_packages[@]}" libwebkit2gtk-4.1-dev)
test_packages=(xvfb webkit2gtk-driver dbus)

case "${1:-}" in
    --core) packages=("${core_packages[@]}") ;;
    --build) packages=("${build_packages[@]}") ;;
    *) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
esac

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "desktop-deps: all present (${packages[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null; then
    echo "desktop-deps: missing ${missing[*]}, and this system has no apt-get; install them with its package manager" >&2
    exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "desktop-deps: missing ${missing[*]}; run this script as root (or install sudo)" >&2
        exit 1
    fi
    sudo=(sudo)
fi
echo "desktop-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
