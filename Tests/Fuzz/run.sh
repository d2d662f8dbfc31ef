#!/usr/bin/env bash
# Builds every libFuzzer target with AddressSanitizer (one `swift build`, so shared modules compile once) and
# fuzzes each for SECONDS (default 60) in turn: run.sh [SECONDS] [TARGET...] (default: all targets; see below).
# A target's corpus starts from Seeds/<dir>/ (real inputs) and grows in .build/corpus/<dir> between runs.
# Any input that crashes or breaks the target's properties is copied to Crashes/<dir>/, which the root package
# replays in `swift test` (FuzzReplayTests, FuzzCrashReplayTests): commit it with the fix.
set -euo pipefail
# Swift's backtracer would take a trap's signal before libFuzzer and exit without the input; with it off,
# libFuzzer's handler saves the crashing input as an artifact (copied to Crashes/ below).
export SWIFT_BACKTRACE=enable=no

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

# target:seed directory:max input length. The YAML, JSON and state-file targets take the size of real files.
all_targets=(
    DNSFuzz:dns:2048
    KubeJSONFuzz:kube-json:8192
    WatchFramingFuzz:watch-framing:8192
    ManifestFuzz:manifest:4096
    ConfigFuzz:config:4096
    StateFileFuzz:state-file:8192
    TCPFramingFuzz:tcp-framing:4096
    TunnelFuzz:tunnel:4096
)
selected=("$@")
targets=()
for entry in "${all_targets[@]}"; do
    name="${entry%%:*}"
    if [ "${#selected[@]}" -eq 0 ] || printf '%s\n' "${selected[@]}" | grep -qx "$name"; then targets+=("$entry"); fi
done
[ "${#targets[@]}" -gt 0 ] || { echo "no such fuzz target: $*; targets: ${all_targets[*]%%:*}" >&2; exit 2; }

# With -O, Swift 6.3's -sanitize=fuzzer alone emits no coverage instrumentation (libFuzzer then reports "no
# interesting inputs"), so the coverage kinds libFuzzer reads are asked for explicitly, for every module.
# -enable-testing: the entry points reach internal parsers and handlers with `@testable import`, as the tests do.
flags=(-c release --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -enable-testing)
start=$(date +%s)
swift build "${flags[@]}"
bin="$(swift build "${flags[@]}" --show-bin-path)"
# Swift skips regenerating an object whose IR hash is unchanged, and coverage is added after that hash: objects
# built earlier without these flags would stay uninstrumented. Rebuild from scratch when that happened.
for entry in "${targets[@]}"; do
    # grep without -q reads all of nm's output: with -q, nm would die of SIGPIPE and pipefail call that a miss.
    if ! nm "$bin/${entry%%:*}" | grep "__start___sancov_cntrs" >/dev/null; then
        echo "${entry%%:*} has no coverage instrumentation: rebuilding from scratch" >&2
        rm -rf "$bin"
        swift build "${flags[@]}"
        break
    fi
done
echo "fuzz build: $(($(date +%s) - start)) s"

failed=()
for entry in "${targets[@]}"; do
    IFS=: read -r name dir max_len <<<"$entry"
    corpus="$here/.build/corpus/$dir"
    artifacts="$here/.build/artifacts/$dir"
    mkdir -p "$corpus" "$artifacts" "$here/Crashes/$dir"
    cp -n "$here/Seeds/$dir"/* "$corpus"/ 2>/dev/null || true
    rm -f "$artifacts"/*
    echo "== $name for ${seconds}s (corpus .build/corpus/$dir)"
    log="$here/.build/logs/$dir.log"
    mkdir -p "$(dirname "$log")"
    status=0
    "$bin/$name" "$corpus" \
        -max_total_time="$seconds" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -max_len="$max_len" \
        -print_final_stats=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    # The log without libFuzzer's line per new or reduced input: the start, any finding with its stack, the stats.
    grep -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE)' "$log" | tail -n 60
    found=0
    for artifact in "$artifacts"/*; do
        [ -e "$artifact" ] || continue
        cp "$artifact" "$here/Crashes/$dir/$(basename "$artifact")"
        echo "fuzz finding saved: Tests/Fuzz/Crashes/$dir/$(basename "$artifact")" >&2
        found=1
    done
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then failed+=("$name (libFuzzer exit $status)"); fi
done

if [ "${#failed[@]}" -ne 0 ]; then
    echo "fuzzing failed: ${failed[*]}; replay with: swift test --filter 'FuzzReplayTests|FuzzCrashReplayTests'" >&2
    exit 1
fi
echo "fuzzing: no findings in ${seconds}s each for ${targets[*]%%:*}"
