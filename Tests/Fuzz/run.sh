#!/usr/bin/env bash
# Builds the libFuzzer target with AddressSanitizer and fuzzes AnswerTable.respond for SECONDS (default 60).
# The corpus starts from Seeds/ (real queries and a few malformed ones) and grows in .build/corpus between runs.
# Any input that crashes or breaks an invariant is copied to Crashes/, which IntegrationTests replays
# (FuzzCrashReplayTests): commit it with the fix.
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

# With -O, Swift 6.3's -sanitize=fuzzer alone emits no coverage instrumentation (libFuzzer then reports "no
# interesting inputs"), so the coverage kinds libFuzzer reads are asked for explicitly, for every module.
flags=(-c release --sanitize=fuzzer --sanitize=address
       -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table)
swift build "${flags[@]}" --product DNSFuzz
binary="$(swift build "${flags[@]}" --show-bin-path)/DNSFuzz"
# Swift skips regenerating an object whose IR hash is unchanged, and coverage is added after that hash: objects
# built earlier without these flags would stay uninstrumented. Rebuild from scratch when that happened.
if ! nm "$binary" | grep -q "__start___sancov_cntrs"; then
    echo "DNSFuzz has no coverage instrumentation: rebuilding from scratch" >&2
    rm -rf "$(dirname "$binary")"
    swift build "${flags[@]}" --product DNSFuzz
fi

corpus="$here/.build/corpus"
artifacts="$here/.build/artifacts"
mkdir -p "$corpus" "$artifacts" "$here/Crashes"
cp -n "$here"/Seeds/* "$corpus"/ 2>/dev/null || true
rm -f "$artifacts"/*

status=0
"$binary" "$corpus" \
    -max_total_time="$seconds" \
    -timeout=10 \
    -rss_limit_mb=4096 \
    -max_len=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$artifacts/" || status=$?

found=0
for artifact in "$artifacts"/*; do
    [ -e "$artifact" ] || continue
    cp "$artifact" "$here/Crashes/$(basename "$artifact")"
    echo "fuzz finding saved: Tests/Fuzz/Crashes/$(basename "$artifact")" >&2
    found=1
done
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
    echo "fuzzing failed (libFuzzer exit $status); replay with: swift test --filter FuzzCrashReplayTests" >&2
    exit 1
fi
echo "fuzzing: no findings in ${seconds}s"
