#!/usr/bin/env bash
# Scale matrix (issue 21): the real `mcdns serve` (release build) over members × services × topology shapes, read
# from generated manifest directories. Per shape: the time to the full table, RSS and peak RSS, the heap in use
# (glibc mallinfo2, from bench/scale-matrix/heapstat.c preloaded: the daemon does not expose it), bytes per endpoint
# and per served name (the names /v1/records lists), and a sample of answers checked with dig. The deleteN shape
# loads N services from one manifest file, deletes it live, then again across a restart from the saved state.
# A crash, a wrong answer or a timeout fails the shape loudly and the script exits 1.
# Usage: bench/scale-matrix.sh [--shapes 10x2000,16x1000,20x1000:shared,delete30000] [--quick] [--hold 10]
#        [--timeout 900] [--keep]     (bench/scale-matrix.sh --help lists every option and the shapes' syntax)
# Default shapes: 10x1500,10x2000,10x3000,16x1000 (each member in its own zone), 20x1000,6x5000,8x2000 (shared
# zones), delete30000. Run by hand on a quiet machine; never part of `make test`. BIN=.build-release/release to
# use a release build made already.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
for arg in "$@"; do
    case "$arg" in -h|--help) exec python3 "$root/bench/scale-matrix/driver.py" --help ;; esac
done
command -v dig >/dev/null || { echo "scale-matrix: needs dig (apt-get install bind9-dnsutils)" >&2; exit 2; }
bin="${BIN:-}"
if [ -z "$bin" ]; then
    swift build -c release --product mcdns --scratch-path .build-release >&2
    bin="$root/.build-release/release"
fi
shim_dir="$(mktemp -d)"
trap 'rm -rf "$shim_dir"' EXIT
shim=()
if command -v cc >/dev/null && cc -O2 -shared -fPIC -o "$shim_dir/heapstat.so" bench/scale-matrix/heapstat.c -lpthread; then
    shim=(--heap-shim "$shim_dir/heapstat.so")
else
    echo "scale-matrix: no C compiler for heapstat.so; the heap is not measured" >&2
fi
python3 "$root/bench/scale-matrix/driver.py" --bin "$bin" --zones "$root/zones" "${shim[@]}" "$@"
