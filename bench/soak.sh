#!/usr/bin/env bash
# Churn soak (issue 22): the real `mcdns serve` (release build) reading mcdns-apisim members, under dnsperf at 70%
# of its measured capacity, while EndpointSlices flip at 1,000 changes a minute and member m0 flaps (cut off past
# its grace period, then back). Samples answers and checks each against the members' history.
# Usage: bench/soak.sh [--minutes 30] [--members 5] [--services 400] [--churn 1000] [--load 0.7] [--seed N]
# Prints crashes, wrong answers and RSS over time; exits 1 on a crash, a wrong answer or RSS drifting beyond ±5%
# after warm-up. Run by hand (it needs dnsperf); never part of `make test`. BIN=.build/debug to use a debug build
# (or any folder holding mcdns and mcdns-apisim); without BIN it builds both in release into .build-release.
# bench/soak.sh --help lists every option of the driver (bench/soak.py).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
case "${1:-}" in
    -h | --help)
        sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
        echo
        exec python3 "$root/bench/soak.py" --help
        ;;
esac
command -v dnsperf >/dev/null || { echo "soak: needs dnsperf (apt-get install dnsperf)" >&2; exit 2; }
bin="${BIN:-}"
if [ -z "$bin" ]; then
    swift build -c release --product mcdns --scratch-path .build-release >&2
    swift build -c release --product mcdns-apisim --scratch-path .build-release >&2
    bin="$root/.build-release/release"
fi
exec python3 "$root/bench/soak.py" --bin "$bin" --zones "$root/zones" "$@"
