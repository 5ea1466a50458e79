#!/usr/bin/env bash
# Kassa's developer entry point: `setup`, `run`, `test`, `deb`. The Makefile calls this.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$HOME/.cargo/bin:$PATH"

# Debian packages: Tauri 2 build deps, headless display, E2E driver, keyring daemon, screenshots,
# poppler's pdftotext/pdfinfo/pdffonts (the receipt PDF tests read the PDFs back with them);
# Node (Skatteetaten's signature validator runs under it in the tests).
# PostgreSQL: the hub tests start throwaway clusters with its initdb and pg_ctl (no service needed);
# openssl: the TLS tests make a private CA and the test hub's certificate with it.
APT_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver
  imagemagick dbus gnome-keyring libsecret-tools keyutils poppler-utils nodejs libxml2-utils postgresql
  openssl)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

setup() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if ! command -v apt-get >/dev/null; then
      echo "Kassa needs these packages (Debian names): ${missing[*]}" >&2
      echo "This system has no apt-get: install their equivalents with your package manager, then rerun." >&2
      exit 1
    fi
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  for tool in fmt clippy; do
    cargo "$tool" --version >/dev/null 2>&1 || { echo "cargo $tool is missing: rustup component add ${tool/fmt/rustfmt}" >&2; exit 1; }
  done
  if [ ! -d node_modules/jsrsasign ] || [ ! -d node_modules/jssha ]; then
    command -v npm >/dev/null || { echo "npm is missing (the validator test needs jsrsasign and jssha): install npm" >&2; exit 1; }
    log "installing the npm devDependencies (Skatteetaten's validator needs jsrsasign and jssha)"
    npm install --no-audit --no-fund --silent
  fi
  if ! command -v tauri-driver >/dev/null; then
    log "installing tauri-driver 2.x (WebDriver bridge for the E2E tests)"
    cargo install tauri-driver --version '^2' --locked --quiet
  fi
}

# Starts Xvfb on a free display and exports DISPLAY; the caller kills $XVFB_PID.
start_xvfb() {
  local n=90
  while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
  Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  export DISPLAY=":$n"
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && return 0; sleep 0.1; done
  echo "Xvfb did not start on :$n" >&2
  exit 1
}

run() {
  setup
  log "building Kassa"
  cargo build --quiet --bin kassa
  if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
    exec "$ROOT/target/debug/kassa"
  fi
  log "no display: starting Kassa under Xvfb"
  start_xvfb
  local shot="$ROOT/target/kassa-screenshot.png" out
  out=$(mktemp)
  "$ROOT/target/debug/kassa" >"$out" 2>&1 &
  local app=$!
  trap 'kill "$app" 2>/dev/null; kill "$XVFB_PID" 2>/dev/null; rm -f "$out"' EXIT
  trap 'exit 0' INT TERM
  for _ in $(seq 300); do
    grep -q KASSA_READY "$out" && break
    kill -0 "$app" 2>/dev/null || { cat "$out" >&2; echo "Kassa exited before its window was ready" >&2; exit 1; }
    sleep 0.1
  done
  sleep 0.3
  import -window root "$shot"
  log "Kassa is running on $DISPLAY ($(grep -o 'KASSA_READY.*' "$out")); screenshot: $shot"
  log "press Ctrl+C to stop"
  wait "$app"
}

# Fails if a core crate depends on Tauri or its GUI stack.
check_core_is_headless() {
  local bad
  for crate in kassa-core kassa-sandbox kassa-cli kassa-hub; do
    bad=$(cargo tree -p "$crate" -e normal,build --prefix none --format '{p}' 2>/dev/null \
      | grep -Ei '^(tauri|wry|tao|gtk|gdk|webkit2gtk|javascriptcore)' | sort -u || true)
    if [ -n "$bad" ]; then
      echo "core crate $crate depends on GUI crates:" >&2
      echo "$bad" >&2
      exit 1
    fi
  done
  log "core crates have no tauri/gtk/webkit dependency"
}

test_all() {
  setup
  log "cargo fmt --check"
  cargo fmt --all --check
  log "cargo clippy"
  cargo clippy --quiet --workspace --all-targets -- -D warnings
  # The sandbox as the desktop app links it: only the demo's emulator (no all-providers).
  cargo clippy --quiet -p kassa-sandbox --no-default-features -- -D warnings
  check_core_is_headless
  log "cargo test (unit, integration, keyring, E2E) under Xvfb with a private keyring"
  # With trace logging, keeping every data directory and all captured output, and a ledger of
  # every secret used: the secrets audit below scans them (scripts/secrets-scan.sh).
  # Short, fixed path: the app's single-instance socket lives in each data directory, and a
  # Unix socket path has at most 107 bytes.
  local art=/tmp/kassa-test-artifacts
  rm -rf "$art"
  mkdir -p "$art/output"
  # A fresh kernel session keyring, a private D-Bus session with an unlocked gnome-keyring, and
  # a virtual display: the real parts, isolated from the user's own.
  KASSA_TEST_ARTIFACTS="$art" KASSA_TEST_SECRETS="$art/secrets.txt" RUST_LOG=trace \
    keyctl session - dbus-run-session -- "$ROOT/tests/with-keyring.sh" \
    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
    cargo test --workspace -- --include-ignored 2>&1 | tee "$art/output/cargo-test.log"
  log "secrets audit"
  "$ROOT/scripts/secrets-scan.sh" "$art"
}

# Every figure in BENCHMARKS.md, into target/bench/ (about 110 minutes on 2 cores, 40–55 of them the desktop day, 20 the page's heap).
# FUZZ_SECONDS (default 60) is each fuzz target's budget.
bench() {
  setup
  local out="$ROOT/target/bench"
  mkdir -p "$out"
  local keyring=(keyctl session - dbus-run-session -- "$ROOT/tests/with-keyring.sh")
  local display=(xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp")
  log "charge → URL per provider, warm and cold process, 50 ms latency"
  "${keyring[@]}" cargo bench -p kassa-cli --bench charge
  # A till's day of demo charges: the charge's time and the process's memory per hundred.
  "${keyring[@]}" cargo bench -p kassa-cli --bench charge -- --day 1500
  log "desktop: start and memory against a blank Tauri window, a day of 1,000 demo sales (40–55 minutes), charge → QR"
  # Two builds: an example enables the dev-dependencies, whose emulators the shipped app lacks.
  cargo build --release --bin kassa
  cargo build --release --example blank_window
  # Sales driven by scripts in the page: WebDriver element commands would keep elements alive.
  "${keyring[@]}" "${display[@]}" cargo bench --bench desktop
  log "desktop: what the page keeps over 500 sales, read through WebKit's remote inspector (no WebDriver; about 20 minutes)"
  "${keyring[@]}" "${display[@]}" node --experimental-websocket benches/web-heap.mjs "${CARGO_TARGET_DIR:-$ROOT/target}/release/kassa" 500 "$out/web-heap"
  log "sizes: stripped release binary and .deb"
  deb
  {
    echo "| artifact | bytes | MB |"
    echo "|---|---|---|"
    for f in target/release/kassa target/release/bundle/deb/*.deb; do
      stat -c '%n %s' "$f" | awk '{ n = split($1, p, "/"); printf "| %s | %d | %.2f |\n", p[n], $2, $2 / 1048576 }'
    done
  } | tee "$out/sizes.md"
  log "session log at 10^6 sessions"
  cargo bench -p kassa-core --bench session_log | tee "$out/session-log.md"
  log "SAF-T export of 10^6 signed sales (the journal built once, about 11 minutes)"
  cargo bench -p kassa-core --bench saft_export | tee "$out/saft-export.md"
  log "the scheduler: 10,000 open links against the emulators, counter sales paid, cadence bands"
  cargo bench -p kassa-sandbox --bench scheduler | tee "$out/scheduler.md"
  log "the shop hub: ten tills x 1 sale/s for 10 min, a till catching up 5,000 sales"
  cargo bench -p kassa-hub --bench hub | tee "$out/hub.txt"
  log "reliability: kill -9 at every charge, capture and refund step, provider faults"
  "${keyring[@]}" cargo test -p kassa-cli --test reliability -- --include-ignored --nocapture --test-threads 1 2>&1 \
    | tee "$out/reliability.log" | grep '^RELIABILITY' | tee "$out/reliability.txt"
  log "fuzzing, ${FUZZ_SECONDS:-60} s per target"
  "$ROOT/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}" | tee "$out/fuzz.txt"
  log "figures are in $out/"
}

deb() {
  setup
  [ -x node_modules/.bin/tauri ] || npm install --no-audit --no-fund
  # The package ships kassa-cli beside the app (tauri.conf.json > bundle > linux > deb > files).
  cargo build --release -p kassa-cli
  npx tauri build --bundles deb
  # Tauri's bundler compresses with gzip; xz, with a window that spans both binaries (they share
  # most of their code), makes the package half as big (13.2 → 6.5 MiB, BENCHMARKS.md, Sizes).
  # dpkg has read xz packages since Debian 6. About 30 s.
  local deb unpacked
  deb=$(ls target/release/bundle/deb/*.deb)
  unpacked=$(mktemp -d)
  dpkg-deb -R "$deb" "$unpacked/root"
  dpkg-deb -Zxz -z9 --root-owner-group -b "$unpacked/root" "$deb" >/dev/null
  rm -rf "$unpacked"
  ls -l target/release/bundle/deb/*.deb
  dpkg-deb --info target/release/bundle/deb/*.deb | sed -n '/Package:/,$p'
  dpkg-deb --contents target/release/bundle/deb/*.deb | grep -E 'usr/bin/'
}

# Reruns the E2E tests (they save screenshots to target/screenshots/) and copies the README's
# screenshots to docs/screenshots/.
screenshots() {
  setup
  keyctl session - dbus-run-session -- "$ROOT/tests/with-keyring.sh" \
    xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
    cargo test --test e2e -- --ignored
  mkdir -p docs/screenshots
  for f in counter qr customer-display webview paid history settings provider-error \
    refund-form history-refunded customer-refund receipt-copy-confirm operator-login \
    first-run quick-keys provider-setup provider-setup-dark day-close link-charge links \
    counter-dark history-dark day-close-dark settings-dark operators history-shop \
    history-shop-unreachable day-close-shop; do
    cp "target/screenshots/$f.png" docs/screenshots/
  done
  log "screenshots copied to docs/screenshots/"
}

case "${1:-}" in
  setup) setup ;;
  run) run ;;
  test) test_all ;;
  deb) deb ;;
  screenshots) screenshots ;;
  bench) bench ;;
  *) echo "usage: $0 setup|run|test|deb|screenshots|bench" >&2; exit 2 ;;
esac
