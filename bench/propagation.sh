#!/usr/bin/env bash
# Propagation benchmark (issue 4): simulated member API servers (mcdns-apisim, one process per member) over
# HTTP, the real `mcdns serve` reading them through a kubeconfig, queried over UDP; release builds of both.
# Usage: bench/propagation.sh [--members 20] [--services 5000] [--changes 1000]
# Prints the time from starting mcdns to the first full sync of all members, and the p50/p99 latency from an
# EndpointSlice change accepted by the API server (the PUT answered) to the changed DNS answer. Run by hand on a
# quiet machine; never part of `make test`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
swift build -c release --product mcdns --scratch-path .build-release >&2
swift build -c release --product mcdns-apisim --scratch-path .build-release >&2
exec python3 "$root/bench/propagation.py" --bin "$root/.build-release/release" --zones "$root/zones" "$@"
