#!/usr/bin/env bash
# The secrets audit `make test` runs after the whole suite (issue #10, reliability 5).
#
# During the suite (run with trace logging), every credential an emulator was given, every
# access token it issued and every value a test put in the keyring was appended to
# ARTIFACTS/secrets.txt (kassa_sandbox::ledger); every data directory (SQLite log, settings,
# window state, products) and all captured output (the CLI's stdout and stderr, the desktop
# app's log, cargo test's own output) were kept under ARTIFACTS. None of those files may
# contain any of those values. A hit names the file and the secret's line in the ledger, never
# the secret. The scan first proves it can fail, on a planted copy.
set -euo pipefail
dir=${1:?usage: secrets-scan.sh ARTIFACTS_DIR}
ledger="$dir/secrets.txt"
[ -s "$ledger" ] || { echo "secrets audit: no ledger at $ledger (was the suite run by make test?)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A value the audit looks for must be distinctive, or it raises false alarms (a test secret
# "us-secret" once matched cargo's "Compiling dbus-secret-service" on a fresh clone), and a
# value too short to look for would be a skipped check. So the ledger itself is checked first: every value at least 12 characters long (the
# suite's test secrets carry a random-looking suffix), and none found in Cargo.lock, whose crate
# names are what a fresh build prints. A failing value is named by its ledger line and length.
min=12
sort -u "$ledger" >"$work/patterns"
bad=$(awk -v min=$min 'length($0) < min { printf "  ledger value #%d is %d characters long\n", NR, length($0) }' "$work/patterns")
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -f "$root/Cargo.lock" ]; then
  n=0
  while IFS= read -r s; do
    n=$((n + 1))
    if grep -qaF -- "$s" "$root/Cargo.lock"; then
      bad+=$'\n'"  ledger value #$n occurs in Cargo.lock"
    fi
  done <"$work/patterns"
fi
if [ -n "$bad" ]; then
  echo "secrets audit: the suite used secrets too generic to audit (make them at least $min characters, distinctive):" >&2
  echo "$bad" | sed '/^$/d' >&2
  exit 1
fi

scan() { # prints the files under $1 that hold any pattern
  local rc=0
  grep -rlaF -f "$work/patterns" --exclude=secrets.txt "$1" || rc=$?
  # 1 is "no file holds one"; 2 (a file grep could not read) must not pass as clean.
  [ "$rc" -le 1 ] || { echo "secrets audit: grep failed (exit $rc) under $1" >&2; return 2; }
}

# The scan must be able to fail: plant one secret and look for it.
mkdir -p "$work/canary"
{ echo "planted:"; sed -n 1p "$work/patterns"; } >"$work/canary/planted.log"
[ -n "$(scan "$work/canary")" ] || { echo "secrets audit: the scan missed a planted secret" >&2; exit 1; }

files=$(find "$dir" -type f ! -name secrets.txt | wc -l)
bytes=$(find "$dir" -type f ! -name secrets.txt -printf '%s\n' | awk '{s+=$1} END {print s+0}')
hits=$(scan "$dir")
if [ -n "$hits" ]; then
  echo "SECRETS FOUND by the audit:" >&2
  while IFS= read -r f; do
    n=0
    while IFS= read -r s; do
      n=$((n + 1))
      grep -qaF -- "$s" "$f" && echo "  $f holds secret #$n of the ledger" >&2
    done <"$work/patterns"
  done <<<"$hits"
  exit 1
fi
echo "secrets audit: $(wc -l <"$work/patterns") secrets looked for in $files files ($bytes bytes): none found"
