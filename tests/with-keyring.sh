#!/bin/sh
# Runs a command with a private, unlocked Secret Service (gnome-keyring) on the current D-Bus
# session. Use it inside a fresh session bus and kernel keyring:
#   keyctl session - dbus-run-session -- tests/with-keyring.sh CMD...
set -e
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-keyring.sh: no D-Bus session; run it under dbus-run-session" >&2
  exit 2
fi
# The keyring's files land in a throwaway directory, never in the user's real keyring.
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME
# The password only unlocks this throwaway keyring.
eval "$(printf '%s' 'kassa-test' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
export KASSA_TEST_KEYRING=1
set +e
"$@"
status=$?
rm -rf "$XDG_DATA_HOME"
exit $status
