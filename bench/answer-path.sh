#!/usr/bin/env bash
# Instructions per query of mcdns's answer path (parse, lookup, copy, patch) under callgrind, on the zone and
# queries bench/dns-qps.sh generates (run that once first). The server's socket loop is not included (the
# whole server's figure is `bench/dns-qps.sh --callgrind`): this harness calls AnswerTable.respond directly,
# COUNT times and 0 times, and prints the difference per query, to see the answer path's share.
# Usage: bench/answer-path.sh [COUNT]   (default 30000). Run by hand; never part of `make test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-30000}"
zone="$root/bench/out/zones/bench.test.zone"
queries="$root/bench/out/queries.txt"
[ -f "$zone" ] && [ -f "$queries" ] || { echo "run bench/dns-qps.sh first (it generates $zone)" >&2; exit 1; }
cd "$root/bench/answer-path"
swift build -c release --scratch-path .build-release >&2
binary=.build-release/release/AnswerPath
cp "$binary" /tmp/answer-path-stripped && objcopy --strip-debug /tmp/answer-path-stripped
total() {
    local out; out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" /tmp/answer-path-stripped "$zone" bench.test "$queries" "$1" >&2
    awk '/^summary:/ { print $2 }' "$out"; rm -f "$out"
}
loaded=$(total "$count")
idle=$(total 0)
echo "answer path: $(( (loaded - idle) / count )) instructions per query over $count queries (callgrind, release)"
