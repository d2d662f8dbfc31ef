#!/usr/bin/env bash
# Propagation benchmark with a tunnel member (issues 4 and 5): in-process simulated member API servers over HTTP
# (the nested package bench/propagation), the real `mcdns serve` (release build) reading them through a kubeconfig,
# queried over UDP. bench/propagation.sh is the direct-only variant with one mcdns-apisim process per member.
# Usage: bench/propagation-tunnel.sh [--members 20] [--services 5000] [--changes 1000] [--tunnel [--cuts 5] [--settle 125]]
# Prints the time from starting mcdns to the first full sync of all members, and the p50/p99 latency from an
# EndpointSlice change accepted by the API server to the changed DNS answer. Run by hand; never part of `make test`.
# --tunnel adds a member read through `mcdns agent` and the reverse tunnel (dialling via a TCP proxy the bench can
# cut; certificates made with openssl): its latency beside the direct member's (alternating changes), the added
# latency (p50, p99), then --cuts times: cut every tunnel connection, change the member, time until DNS answers with
# the change (agent redial + watch resume + propagation), and the number of relists that caused. Cuts are --settle
# seconds apart: the agent resets its backoff after 30 s connected, the host's reflectors after 120 s without a
# failure, so closer cuts show the retry delays doubling (a flapping link).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$root" && swift build -c release --product mcdns --scratch-path .build-release >&2)
cd "$root/bench/propagation"
swift build -c release --scratch-path .build-release >&2
# stdbuf: each figure shows as soon as it is measured, also when the output goes to a file.
exec stdbuf -oL ./.build-release/release/PropagationBench --mcdns "$root/.build-release/release/mcdns" --zones "$root/zones" "$@"
