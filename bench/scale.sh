#!/usr/bin/env bash
# Scale benchmark (issue 3): N members × M services through the real controller and answer compiler.
# Usage: bench/scale.sh [--members 20] [--services 5000] [--changes 1000] [--controller-only 1] [--upserts 1]
# Prints the time to the first complete answer table, RSS, bytes per endpoint, and the p50/p99 latency from a
# changed EndpointSlice to the changed DNS answer. Run by hand; never part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/scale"
swift build -c release --scratch-path .build-release >&2
exec ./.build-release/release/ScaleBench "$@"
