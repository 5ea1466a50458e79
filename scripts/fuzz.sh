#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS_PER_TARGET (default 60) and keeps what the
# fuzzer finds.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]
#
# - Builds all targets once (stable toolchain; RUSTC_BOOTSTRAP=1 unlocks the nightly flags
#   cargo-fuzz needs), with overflow checks and AddressSanitizer (cargo-fuzz's defaults).
# - Fuzzes each target on its kept corpus fuzz/corpus/<target>/ (order_parser also reads
#   tests/orders/), writing new inputs to a scratch directory, then merges those that cover a
#   new edge into the kept corpus (libFuzzer -merge=1 -use_counters=0: with hit counts nearly
#   every input is "new" and a corpus doubles per minute). A corpus above FUZZ_MAX_CORPUS
#   files (default 2000) is minimized to the fewest inputs that keep every edge, so the
#   corpora stay small enough to keep in git and to replay in the test suite
#   (crates/kassa-core/tests/fuzz_corpus.rs).
# - Prints one line per target:
#     FUZZ <target> runs=<executions> corpus=<files> seconds=<s> crashes=<0|1>
# - A crash (or a hang past 10 s, or memory past 2 GB) keeps its input in fuzz/artifacts/<target>/
#   and makes the script exit 1 after the other targets ran. Reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>.
set -euo pipefail

SECONDS_PER_TARGET=${1:-60}
MAX_CORPUS=${FUZZ_MAX_CORPUS:-2000}
if ! [[ $SECONDS_PER_TARGET =~ ^[1-9][0-9]*$ && $MAX_CORPUS =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2
    exit 2
fi

cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
export PATH="$HOME/.cargo/bin:$PATH"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo fuzz build

# Scratch space for new inputs, inside fuzz/target (ignored by git, not read as a corpus).
scratch=fuzz/target/fuzz-sh
rm -rf "$scratch"
mkdir -p "$scratch"

count() {
    find "$1" -maxdepth 1 -type f ! -name '.*' | wc -l | tr -d ' '
}

failed=0
# Not inside the loop's word list, where a failing `cargo fuzz list` would mean zero targets, passed.
targets=$(cargo fuzz list)
[ -n "$targets" ] || { echo "fuzz.sh: cargo fuzz list found no targets" >&2; exit 1; }
for target in $targets; do
    corpus=fuzz/corpus/$target
    new=$scratch/$target
    log=$scratch/$target.log
    mkdir -p "$corpus" "$new" "fuzz/artifacts/$target"
    seeds=()
    if [[ $target == order_parser ]]; then
        seeds+=(tests/orders)
    fi

    echo "== $target: ${SECONDS_PER_TARGET} s" >&2
    start=$SECONDS
    crashed=0
    cargo fuzz run "$target" "$new" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1 || crashed=1
    # libFuzzer's own count and time ("Done N runs in S second(s)"), without cargo's build;
    # after a crash only the wall time is known.
    runs=$(awk '/stat::number_of_executed_units:/ {n = $2} END {print (n == "" ? "?" : n)}' "$log")
    elapsed=$(awk -v wall=$((SECONDS - start)) '/^Done [0-9]+ runs in [0-9]+ second/ {s = $5}
        END {print (s == "" ? wall : s)}' "$log")

    if ((crashed)); then
        failed=1
        tail -n 40 "$log" >&2
    fi
    # Keep what adds coverage, also after a crash (the crashing input itself is not in $new).
    cargo fuzz run "$target" "$corpus" "$new" -- -merge=1 -use_counters=0 -rss_limit_mb=2048 \
        -timeout=10 >>"$log" 2>&1 || echo "$target: merge failed, see $log" >&2
    if (($(count "$corpus") > MAX_CORPUS)); then
        minimized=$scratch/$target.min
        mkdir -p "$minimized"
        if cargo fuzz run "$target" "$minimized" "$corpus" -- -merge=1 -use_counters=0 \
            -rss_limit_mb=2048 -timeout=10 >>"$log" 2>&1 && (($(count "$minimized") > 0)); then
            find "$corpus" -maxdepth 1 -type f ! -name '.*' -delete
            cp "$minimized"/* "$corpus"/
        fi
    fi

    echo "FUZZ $target runs=$runs corpus=$(count "$corpus") seconds=$elapsed crashes=$crashed"
    if ((crashed)); then
        grep -h "Test unit written to\|^artifact_prefix" "$log" >&2 || true
    fi
done

exit "$failed"
