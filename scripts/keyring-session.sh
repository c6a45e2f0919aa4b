#!/usr/bin/env bash
# Runs a command with an OS keychain of its own, unlocked without a prompt: a new kernel keyring
# session (keyctl), a private D-Bus session bus (dbus-run-session) and GNOME Keyring's Secret Service
# on it, unlocked with a throw-away password, keeping its keyring in throw-away XDG directories.
# The bus, the daemon and the directories end with the command; its exit status is the script's.
#
#   scripts/keyring-session.sh cargo test ...
#
# Needs the packages gnome-keyring, dbus and keyutils (scripts/test.sh installs them).
set -euo pipefail

if [[ "${1:-}" != "--inside" ]]; then
    exec keyctl session - dbus-run-session -- "$0" --inside "$@"
fi
shift

runtime_dir=$(mktemp -d)
data_dir=$(mktemp -d)
trap 'rm -rf "$runtime_dir" "$data_dir"' EXIT
chmod 700 "$runtime_dir"
export XDG_RUNTIME_DIR="$runtime_dir" XDG_DATA_HOME="$data_dir"

# --unlock reads the password from stdin and creates the login keyring with it when there is none.
printf %s test-pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null
# Wait until the daemon owns its bus name: a client that asks earlier makes D-Bus start a second one.
for _ in $(seq 50); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
        break
    fi
    sleep 0.1
done

"$@"
