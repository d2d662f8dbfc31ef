#!/usr/bin/env bash
# What answer rotation (dns.rotate, README "Traffic policies") costs per query on the UDP path (issue 20: at most
# 3% more CPU per query). One release binary serves the same generated names twice, once with `dns.rotate: true`
# and once with `false`; dnsperf asks both in alternating rounds and the script prints QPS and CPU microseconds
# per query for each, and the on/off ratios per round.
#
#   bench/rotation-cost.sh [--rounds N] [--seconds S] [--services N] [--mcdns-binary PATH]
#
# The names are generated, not static (static zones never rotate): three manifest members in two regions, each
# exporting N LoadBalancer services (default 2,000) with one ingress IP, so every global name holds three A records
# and rotates; the queries are the global A names (80%), region names (10%, two or one A records) and missing
# names (10%, NXDOMAIN). The servers run with one UDP worker pinned to CPU 1 under SCHED_FIFO, dnsperf on CPU 0,
# as bench/dns-qps.sh does (DESIGN §8). Needs root (chrt, taskset), dnsperf and dig. Run by hand, never from make
# test. Output goes to bench/out/rotation/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bench/out/rotation"
rounds=3 seconds=10 services=2000 mcdns_bin=""
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --services) services="$2"; shift 2 ;;
        --mcdns-binary) mcdns_bin="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
for tool in dnsperf dig chrt taskset python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install -y dnsperf dnsutils util-linux python3)" >&2; exit 2; }
done

if [ -z "$mcdns_bin" ]; then
    echo "building mcdns (release)..." >&2
    (cd "$root" && swift build -c release --product mcdns >&2)
    mcdns_bin="$(cd "$root" && swift build -c release --show-bin-path)/mcdns"
fi

rm -rf "$out"; mkdir -p "$out"
echo "generating 3 members × $services services..." >&2
python3 - "$out" "$services" <<'PY'
import os, sys, random
out, n = sys.argv[1], int(sys.argv[2])
members = [("east-1", "us-east-1", "us-east-1a", 1), ("east-2", "us-east-1", "us-east-1b", 2),
           ("west-1", "us-west-2", "us-west-2a", 3)]
for name, region, zone, m in members:
    d = os.path.join(out, "members", name); os.makedirs(d)
    with open(os.path.join(d, "nodes.yaml"), "w") as f:
        f.write(f"apiVersion: v1\nkind: Node\nmetadata:\n  name: {name}-node\n  labels:\n"
                f"    topology.kubernetes.io/region: {region}\n    topology.kubernetes.io/zone: {zone}\n")
    with open(os.path.join(d, "services.yaml"), "w") as f:
        for i in range(n):
            f.write(f"""apiVersion: v1
kind: Service
metadata:
  name: s{i}
  namespace: bench
  creationTimestamp: "2024-03-01T10:00:00Z"
  annotations: {{ mcdns.io/export: "true" }}
spec:
  type: LoadBalancer
  clusterIP: 172.{16 + m}.{i // 256}.{i % 256}
  ports: [{{ name: http, protocol: TCP, port: 80 }}]
status: {{ loadBalancer: {{ ingress: [{{ ip: 10.{m}.{i // 256}.{i % 256} }}] }} }}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: s{i}-a
  namespace: bench
  labels: {{ kubernetes.io/service-name: s{i} }}
addressType: IPv4
endpoints:
  - addresses: ["10.{100 + m}.{i // 256}.{i % 256}"]
    conditions: {{ ready: true }}
    nodeName: {name}-node
ports: [{{ name: http, protocol: TCP, port: 8080 }}]
---
""")
random.seed(42)
with open(os.path.join(out, "queries.txt"), "w") as f:
    for q in range(100000):
        i = random.randrange(n); r = random.random()
        if r < 0.10:
            f.write(f"missing-{q}.bench.acme.svc.example.com A\n")
        elif r < 0.20:
            f.write(f"s{i}.bench.acme.svc.{random.choice(['us-east-1', 'us-west-2'])}.example.com A\n")
        else:
            f.write(f"s{i}.bench.acme.svc.example.com A\n")
PY

free_port() {
    python3 -c 'import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}

declare -A port pid
cleanup() { for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

for mode in on off; do
    dir="$out/run-$mode"; mkdir -p "$dir"
    port[$mode]="$(free_port)"
    rotate=true; [ "$mode" = off ] && rotate=false
    cat > "$dir/mcdns.yaml" <<YAML
listen: { dns: ["127.0.0.1:${port[$mode]}"], admin: "127.0.0.1:0" }
zonesDir: "$root/zones"
stateDir: "$dir/state"
federation: { name: acme, domain: example.com }
dns: { udpThreadsPerAddress: 1, rotate: $rotate }
clusters:
  - { name: east-1, source: { manifests: "$out/members/east-1" } }
  - { name: east-2, source: { manifests: "$out/members/east-2" } }
  - { name: west-1, source: { manifests: "$out/members/west-1" } }
YAML
    taskset -c 1 chrt -f 20 "$mcdns_bin" serve --config "$dir/mcdns.yaml" --log-level warning > "$dir/server.log" 2>&1 &
    pid[$mode]=$!
done
# Ready when the last generated name answers with all three clusters; bounded.
last="s$((services - 1)).bench.acme.svc.example.com"
for mode in on off; do
    tries=0
    until [ "$(dig @127.0.0.1 -p "${port[$mode]}" +tries=1 +timeout=1 +short "$last" A 2>/dev/null | wc -l)" -eq 3 ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 120 ] || ! kill -0 "${pid[$mode]}" 2>/dev/null; then
            echo "mcdns (rotate $mode) did not serve $last; log:" >&2; tail -n 30 "$out/run-$mode/server.log" >&2; exit 1
        fi
        sleep 0.5
    done
done
# Rotation really differs between the two: the first address of the same name changes only with it on.
firsts() { for _ in 1 2 3 4 5 6; do dig @127.0.0.1 -p "$1" +short "$last" A | head -1; done | sort -u | wc -l; }
echo "distinct first addresses over 6 queries: rotate on $(firsts "${port[on]}"), off $(firsts "${port[off]}")"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz="$(getconf CLK_TCK)"
printf '%-6s %-7s %12s %16s\n' round rotate qps "cpu µs/query"
declare -A qps cpu
for r in $(seq 1 "$rounds"); do
    for mode in on off; do
        before="$(cpu_ticks "${pid[$mode]}")"
        result="$(taskset -c 0 chrt -f 20 dnsperf -s 127.0.0.1 -p "${port[$mode]}" -d "$out/queries.txt" \
            -l "$seconds" -c 1 -q 200 -T 1 2>&1)"
        after="$(cpu_ticks "${pid[$mode]}")"
        completed="$(awk '/Queries completed:/ {print $3}' <<<"$result")"
        q="$(awk '/Queries per second:/ {print $4}' <<<"$result")"
        us="$(awk -v t=$((after - before)) -v hz="$hz" -v n="$completed" 'BEGIN { printf "%.3f", t / hz * 1e6 / n }')"
        qps[$r,$mode]="$q"; cpu[$r,$mode]="$us"
        printf '%-6s %-7s %12s %16s\n' "$r" "$mode" "$q" "$us"
    done
    awk -v a="${qps[$r,on]}" -v b="${qps[$r,off]}" -v c="${cpu[$r,on]}" -v d="${cpu[$r,off]}" -v r="$r" \
        'BEGIN { printf "round %s: on/off QPS %.3f, on/off CPU per query %.3f\n", r, a / b, c / d }'
done
