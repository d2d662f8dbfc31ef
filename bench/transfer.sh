#!/usr/bin/env bash
# Zone transfer benchmark (issue 17): one member with N LoadBalancer services (manifest directory), mcdns with
# transfer: allowed from 127.0.0.1, then
#   - a full transfer (kdig AXFR example.com): time, messages, records, bytes;
#   - one service's address changed: the IXFR from the serial before it (records, bytes);
#   - the time from that change to mcdns answering it.
#   - with --secondary: Knot as a TSIG-keyed secondary of mcdns (examples/secondary/knot.conf, the config
#     SecondaryExampleTests runs as-is, with this bench's ports), and the time from a member change to Knot
#     answering the new address, driven by NOTIFY. Needs knotd.
#   - with --under-load S: the UDP query rate (dnsperf, S seconds, generated A names) without a transfer and while
#     full transfers run back to back, in alternating rounds, and their ratio (issue 17: at most 10% lower); then
#     queries paced at 80% of that rate with one full transfer alongside: the rate answered and the transfer's time.
#     mcdns runs pinned to CPU 1 with one UDP worker, so its transfer thread (nice 19) shares that core with it;
#     dnsperf runs on CPU 0 under SCHED_FIFO; the transfer client only reads and drops the stream (CPU 1).
#     Needs root and dnsperf.
# Usage: bench/transfer.sh [--services 100000] [--binary .build/release/mcdns] [--port 15353] [--under-load S]
#                          [--secondary]
# Run by hand; never part of `make test`. Uses the release binary when built, else the debug one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
services=100000
port=15353
under_load=0
secondary=0
binary="$root/.build/release/mcdns"
[ -x "$binary" ] || binary="$root/.build/debug/mcdns"
while [ $# -gt 0 ]; do
  case "$1" in
    --services) services="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --under-load) under_load="$2"; shift 2 ;;
    --secondary) secondary=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--services N] [--binary PATH] [--port PORT] [--under-load SECONDS] [--secondary]" >&2; exit 2 ;;
  esac
done
work="$(mktemp -d /tmp/mcdns-transfer-bench.XXXXXX)"
knot=""
trap 'kill "$pid" $knot 2>/dev/null || true; wait "$pid" $knot 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir -p "$work/member" "$work/zones"
cp "$root/zones/"*.zone "$work/zones/"
cat > "$work/member/nodes.yaml" <<YAML
apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: { topology.kubernetes.io/region: r1, topology.kubernetes.io/zone: z1 }
YAML
# N services, 1,000 to a file, each with one IPv4 load balancer address and one ready endpoint.
python3 - "$work/member" "$services" <<'PY'
import sys
folder, n = sys.argv[1], int(sys.argv[2])
for f in range(0, n, 1000):
    with open(f"{folder}/svc-{f // 1000:04d}.yaml", "w") as out:
        for i in range(f, min(n, f + 1000)):
            out.write(f"""---
apiVersion: v1
kind: Service
metadata: {{ name: svc-{i}, namespace: ns-{i % 50}, annotations: {{ mcdns.io/export: "true" }} }}
spec: {{ type: LoadBalancer, clusterIPs: [172.16.{i // 256 % 256}.{i % 256}], ports: [{{ name: http, protocol: TCP, port: 80 }}] }}
status: {{ loadBalancer: {{ ingress: [{{ ip: 10.{i // 65536}.{i // 256 % 256}.{i % 256} }}] }} }}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{ name: svc-{i}-a, namespace: ns-{i % 50}, labels: {{ kubernetes.io/service-name: svc-{i} }} }}
addressType: IPv4
endpoints: [{{ addresses: [192.168.{i // 256 % 256}.{i % 256}], conditions: {{ ready: true }} }}]
ports: [{{ name: http, protocol: TCP, port: 8080 }}]
""")
PY
cat > "$work/mcdns.yaml" <<YAML
listen: { dns: ["127.0.0.1:$port"], admin: "127.0.0.1:0" }
zonesDir: zones
stateDir: state
federation: { name: acme, domain: example.com }
clusters:
  - { name: m1, source: { manifests: member } }
dns: { udpThreadsPerAddress: 1 }
transfer: { allow: [127.0.0.1/32], journalLength: 8 }
YAML
secport=$((port + 1))
if [ "$secondary" = 1 ]; then
  # The example's Knot config, pointed at this bench's ports and zone; mcdns notifies it, signed with its key.
  cp "$root/examples/secondary/xfr.key" "$work/xfr.key"
  sed -e "s/127.0.0.1@5300/127.0.0.1@$port/" -e "s/127.0.0.1@5301/127.0.0.1@$secport/" \
      -e '/domain: clusterset.local/d' "$root/examples/secondary/knot.conf" > "$work/knot.conf"
  grep -q "127.0.0.1@$secport" "$work/knot.conf" || { echo "examples/secondary/knot.conf changed shape" >&2; exit 1; }
  cat >> "$work/mcdns.yaml" <<YAML
transfer:
  allow: [127.0.0.1/32]
  journalLength: 8
  keys: [{ name: xfr-key, algorithm: hmac-sha256, secretFile: xfr.key }]
  requireTSIG: false
  notify: ["127.0.0.1:$secport"]
YAML
  sed -i '/^transfer: { allow/d' "$work/mcdns.yaml"
fi
# The answer's records only (dig prints connection errors on stdout, even with +short).
q() { dig +short +tries=1 +time=2 @127.0.0.1 -p "$port" "$@" 2>/dev/null | grep -v '^;;' || true; }
pin=()
[ "$under_load" != 0 ] && pin=(taskset -c 1)
"${pin[@]}" "$binary" serve --config "$work/mcdns.yaml" > "$work/mcdns.log" 2>&1 &
pid=$!
last="svc-$((services - 1)).ns-$(((services - 1) % 50)).acme.svc.example.com"
for _ in $(seq 1 1200); do
  [ -n "$(q "$last" A)" ] && break
  sleep 0.5
done
[ -n "$(q "$last" A)" ] || { echo "mcdns never served $last" >&2; tail "$work/mcdns.log" >&2; exit 1; }
serial() { q example.com SOA | awk '{print $3}'; }
before="$(serial)"
start=$(date +%s.%N)
kdig @127.0.0.1 -p "$port" AXFR example.com +timeout=120 > "$work/axfr.txt"
end=$(date +%s.%N)
records=$(grep -v '^;' "$work/axfr.txt" | grep -c . || true)
summary=$(grep '^;; Received' "$work/axfr.txt" || true)
printf 'services=%s binary=%s\n' "$services" "$binary"
printf 'AXFR: %.2f s, %s records, %s\n' "$(echo "$end - $start" | bc)" "$records" "$summary"
# One change: service 0 moves to a new address.
changed=$(date +%s.%N)
sed -i 's/ip: 10\.0\.0\.0 }/ip: 10.255.255.1 }/' "$work/member/svc-0000.yaml"
for _ in $(seq 1 600); do
  [ "$(q svc-0.ns-0.acme.svc.example.com A)" = "10.255.255.1" ] && break
  sleep 0.01
done
answered=$(date +%s.%N)
printf 'change to answer: %.3f s\n' "$(echo "$answered - $changed" | bc)"
kdig @127.0.0.1 -p "$port" IXFR="$before" example.com +timeout=120 > "$work/ixfr.txt"
printf 'IXFR for one change: %s records, %s\n' "$(grep -vc '^;' "$work/ixfr.txt" || true)" "$(grep '^;; Received' "$work/ixfr.txt" || true)"

if [ "$secondary" = 1 ]; then
  # Knot takes the zone (a full transfer), then service 1 moves: the time until Knot answers its new address.
  mkdir -p "$work/knot-data"
  (cd "$work" && exec knotd -c knot.conf > "$work/knot.log" 2>&1) & knot=$!
  sq() { dig +short +tries=1 +time=2 @127.0.0.1 -p "$secport" "$@" 2>/dev/null | grep -v '^;;' || true; }
  for _ in $(seq 1 1200); do
    kill -0 "$knot" 2>/dev/null || { echo "knotd exited" >&2; tail "$work/knot.log" >&2; exit 1; }
    [ "$(sq example.com SOA | awk '{print $3}')" = "$(serial)" ] && break
    sleep 0.5
  done
  [ "$(sq example.com SOA | awk '{print $3}')" = "$(serial)" ] || { echo "Knot never took the zone" >&2; tail "$work/knot.log" >&2; exit 1; }
  changed=$(date +%s.%N)
  sed -i 's/ip: 10\.0\.0\.1 }/ip: 10.255.255.2 }/' "$work/member/svc-0000.yaml"
  seen_primary=""
  for _ in $(seq 1 3000); do
    [ -z "$seen_primary" ] && [ "$(q svc-1.ns-1.acme.svc.example.com A)" = "10.255.255.2" ] && seen_primary=$(date +%s.%N)
    [ "$(sq svc-1.ns-1.acme.svc.example.com A)" = "10.255.255.2" ] && break
    sleep 0.01
  done
  answered=$(date +%s.%N)
  [ "$(sq svc-1.ns-1.acme.svc.example.com A)" = "10.255.255.2" ] || { echo "Knot never answered the change" >&2; exit 1; }
  printf 'change to secondary (Knot) answer: %.3f s (mcdns answered after %.3f s; %s)\n' \
    "$(echo "$answered - $changed" | bc)" "$(echo "${seen_primary:-$answered} - $changed" | bc)" \
    "$(grep -c 'IXFR' "$work/knot.log" || true) IXFR lines in Knot's log"
  kill "$knot" 2>/dev/null || true; wait "$knot" 2>/dev/null || true; knot=""
fi

[ "$under_load" != 0 ] || exit 0
# Query rate without and with back-to-back full transfers, alternating, two rounds each.
python3 - "$work/queries.txt" "$services" <<'PY'
import random, sys
random.seed(7)
n = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    for _ in range(100000):
        i = random.randrange(n)
        f.write(f"svc-{i}.ns-{i % 50}.acme.svc.example.com A\n")
PY
rate() {
  taskset -c 0 chrt -f 20 dnsperf -s 127.0.0.1 -p "$port" -d "$work/queries.txt" -l "$under_load" -c 1 -q 200 -T 1 "$@" 2>&1 \
    | awk '/Queries per second:/ {print $4}'
}
# The transfer client reads and drops the stream (a 2-byte length, then the message; it stops once the messages'
# ANCOUNTs add up to the AXFR's records), so the CPU a transfer takes is mcdns's, not a parser's.
cat > "$work/axfr-reader.py" <<'PY'
import socket, struct, sys, time
port, total = int(sys.argv[1]), int(sys.argv[2])
once = len(sys.argv) > 3
qname = b"".join(bytes([len(l)]) + l.encode() for l in "example.com".split(".")) + b"\0"
query = struct.pack(">HHHHHH", 0x4242, 0, 1, 0, 0, 0) + qname + struct.pack(">HH", 252, 1)
while True:
    began = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(struct.pack(">H", len(query)) + query)
    f = s.makefile("rb", buffering=1 << 20)
    seen = 0
    messages = 0
    while seen < total:
        head = f.read(2)
        if len(head) < 2: break
        message = f.read(struct.unpack(">H", head)[0])
        seen += struct.unpack(">H", message[6:8])[0]
        messages += 1
        if messages % 20 == 0: print("records", seen, flush=True)
    s.close()
    if seen >= total: print(f"done {time.monotonic() - began:.2f}", flush=True)
    if once: break
PY
transfers() {
  exec taskset -c 1 python3 "$work/axfr-reader.py" "$port" "$records" > "$work/transfers-$round.txt"
}
for round in 1 2; do
  quiet=$(rate)
  transfers & loop=$!
  sleep 1
  busy=$(rate)
  kill "$loop" 2>/dev/null || true; wait "$loop" 2>/dev/null || true
  printf 'round %s: %s qps without a transfer, %s qps during full transfers (%s completed, %s records of the last one received): ratio %.3f\n' \
    "$round" "$quiet" "$busy" "$(grep -c done "$work/transfers-$round.txt" || true)" \
    "$(grep records "$work/transfers-$round.txt" | tail -1 | awk '{print $2}')" "$(echo "$busy / $quiet" | bc -l)"
done
# Below saturation: queries paced at 80% of the last unloaded rate, and one full transfer started alongside: the
# rate should hold and the transfer finish, with the core's spare fifth.
round=paced
target=$(printf '%.0f' "$(echo "$quiet * 0.8" | bc -l)")
(exec taskset -c 1 python3 "$work/axfr-reader.py" "$port" "$records" once > "$work/transfers-paced.txt") & loop=$!
paced=$(rate -Q "$target")
kill "$loop" 2>/dev/null || true; wait "$loop" 2>/dev/null || true
printf 'paced: %s qps asked, %s qps answered during one full transfer (ratio %.3f); the transfer %s\n' \
  "$target" "$paced" "$(echo "$paced / $target" | bc -l)" \
  "$(awk '/^done/ {print "finished in " $2 " s"; f=1} END {if (!f) print "did not finish"}' "$work/transfers-paced.txt")"
