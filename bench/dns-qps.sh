#!/usr/bin/env bash
# UDP query throughput of mcdns against Knot DNS and NSD, side by side on this machine (issue 2, DESIGN §8).
#
#   bench/dns-qps.sh [--rounds N] [--seconds S] [--servers mcdns,knot,nsd]    # dnsperf rounds
#   bench/dns-qps.sh --callgrind [--servers ...]                              # instructions per query
#   --mcdns-binary PATH   use this mcdns instead of building the package's release binary
#   --mcdns-dns YAML      more keys for mcdns's dns: map, e.g. 'rateLimit: { responsesPerSecond: 100000 }'
#
# Builds mcdns in release mode, generates a zone of 10,000 services (A, AAAA, SRV, CNAME) and a query file with
# about 10% NXDOMAIN, and serves the same zone from each server, each on 127.0.0.1 with one worker pinned to
# CPU 1 under SCHED_FIFO (chrt -f 20). dnsperf runs pinned to CPU 0, also under chrt, for S seconds per server,
# the servers alternating within each round, because rounds vary by 10-15% here and only same-round ratios compare
# well. It prints QPS, mean latency, RSS and CPU microseconds per query per server and round, then the
# mcdns/Knot and mcdns/NSD ratios of QPS and of queries per CPU-second (robust when the client saturates first).
# The throughput rounds run dnsperf without -v: printing one line per query cost dnsperf more than answering cost
# the servers, so it saturated first and compressed every ratio. p99 latency comes from a separate pass per
# server with -v at a fixed offered load (--latency-qps, default 40,000 queries per second, below every server's
# capacity here), so it measures answering rather than queueing in a saturated client.
#
# --callgrind runs each server under valgrind --tool=callgrind (mcdns stripped of debug info first: valgrind
# cannot read Swift 6.3's DWARF) twice, once answering 1,000 warm-up + 3,000 queries and once answering only the
# warm-up for as long, and prints the difference per query: user-space instructions per query.
#
# Needs root (chrt, taskset) and: dnsperf, knot, nsd, valgrind, binutils. Run by hand, never from make test.
# Everything generated goes to bench/out/ (git-ignored).
set -euo pipefail

rounds=3
seconds=10
servers="mcdns,knot,nsd"
mode=qps
mcdns_bin=""
mcdns_dns=""
latency_qps=40000
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --servers) servers="$2"; shift 2 ;;
        --callgrind) mode=callgrind; shift ;;
        --mcdns-binary) mcdns_bin="$2"; shift 2 ;;
        --mcdns-dns) mcdns_dns=", $2"; shift 2 ;;
        --latency-qps) latency_qps="$2"; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/bench/out"
mkdir -p "$out"
zone_name="bench.test"
services=10000
client_cpu=0
server_cpu=1

need() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || { echo "missing $1: apt-get install $2" >&2; exit 1; }; }
need dnsperf dnsperf
need chrt util-linux
need taskset util-linux
[[ "$servers" == *knot* ]] && need knotd knot
[[ "$servers" == *nsd* ]] && need nsd nsd
[ "$mode" = callgrind ] && { need valgrind valgrind; need objcopy binutils; need callgrind_control valgrind; }
export PATH="$PATH:/usr/sbin"

# --- build -------------------------------------------------------------------------------------------------------
if [[ "$servers" == *mcdns* ]] && [ -z "$mcdns_bin" ]; then
    echo "building mcdns (release)..." >&2
    (cd "$root" && swift build -c release --product mcdns >&2)
    mcdns_bin="$(cd "$root" && swift build -c release --show-bin-path)/mcdns"
fi

# --- zone and queries --------------------------------------------------------------------------------------------
zones="$out/zones"
mkdir -p "$zones"
zone_file="$zones/$zone_name.zone"
queries="$out/queries.txt"
if [ ! -s "$zone_file" ] || [ ! -s "$queries" ]; then
    echo "generating $services services in $zone_file..." >&2
    awk -v n="$services" -v zone="$zone_name" 'BEGIN {
        print "$ORIGIN " zone "."
        print "$TTL 300"
        print "@ IN SOA ns1 hostmaster 1 3600 600 86400 60"
        print "@ IN NS ns1"
        print "ns1 IN A 192.0.2.1"
        for (i = 1; i <= n; i++) {
            name = sprintf("svc-%05d", i)
            printf "%s IN A 10.%d.%d.%d\n", name, int(i / 65536) % 256, int(i / 256) % 256, i % 256
            printf "%s IN AAAA fd00::%x\n", name, i
            printf "_http._tcp.%s IN SRV 0 0 80 %s\n", name, name
            printf "www.%s IN CNAME %s\n", name, name
        }
    }' > "$zone_file"
    # 100,000 queries: A, AAAA, SRV and CNAME names in equal parts, and about 10% missing names (NXDOMAIN).
    awk -v n="$services" -v zone="$zone_name" 'BEGIN {
        srand(42)
        for (q = 0; q < 100000; q++) {
            i = int(rand() * n) + 1
            name = sprintf("svc-%05d.%s", i, zone)
            r = rand()
            if (r < 0.10)      printf "missing-%06d.%s A\n", q, zone
            else if (r < 0.33) printf "%s A\n", name
            else if (r < 0.55) printf "%s AAAA\n", name
            else if (r < 0.78) printf "_http._tcp.%s SRV\n", name
            else               printf "www.%s A\n", name
        }
    }' > "$queries"
fi
head -n 3000 "$queries" > "$out/queries-3000.txt"
sed -n '3001,4000p' "$queries" > "$out/queries-warmup.txt"

# --- servers -----------------------------------------------------------------------------------------------------
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
wrapper=()   # prefix for the server command: valgrind in callgrind mode

start_server() {
    local name="$1" dir="$out/run-$1"
    rm -rf "$dir"; mkdir -p "$dir"
    port[$name]="$(free_port)"
    local p="${port[$name]}"
    local cmd
    case "$name" in
        mcdns)
            local bin="$mcdns_bin"
            if [ "$mode" = callgrind ]; then
                cp "$mcdns_bin" "$dir/mcdns"; objcopy --strip-debug "$dir/mcdns"; bin="$dir/mcdns"
            fi
            cat > "$dir/mcdns.yaml" <<YAML
listen: { dns: ["127.0.0.1:$p"], admin: "127.0.0.1:0" }
zonesDir: "$zones"
stateDir: "$dir/state"
dns: { udpThreadsPerAddress: 1$mcdns_dns }
YAML
            cmd=("$bin" serve --config "$dir/mcdns.yaml") ;;
        knot)
            cat > "$dir/knot.conf" <<CONF
server:
    rundir: "$dir"
    listen: 127.0.0.1@$p
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
    udp-max-payload: 1232
control:
    listen: "$dir/knot.sock"
database:
    storage: "$dir/db"
log:
  - target: stderr
    any: warning
template:
  - id: default
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $zone_name
    file: "$zone_file"
CONF
            cmd=(/usr/sbin/knotd -c "$dir/knot.conf") ;;
        nsd)
            cat > "$dir/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$p
    do-ip6: no
    server-count: 1
    username: ""
    chroot: ""
    zonesdir: "$dir"
    pidfile: "$dir/nsd.pid"
    database: ""
    zonelistfile: "$dir/zone.list"
    xfrdfile: "$dir/xfrd.state"
    xfrdir: "$dir"
    verbosity: 0
    rrl-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: $zone_name
    zonefile: "$zone_file"
CONF
            cmd=(/usr/sbin/nsd -d -c "$dir/nsd.conf") ;;
    esac
    if [ "$mode" = callgrind ]; then
        wrapper=(valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out.%p" --dump-instr=no)
    else
        wrapper=(chrt -f 20)
    fi
    taskset -c "$server_cpu" "${wrapper[@]}" "${cmd[@]}" > "$dir/server.log" 2>&1 &
    pid[$name]=$!
    # Ready when it answers; bounded (valgrind startup is slow).
    local tries=0
    until dig @127.0.0.1 -p "$p" +tries=1 +timeout=1 +short "$zone_name" SOA >/dev/null 2>&1 \
          && [ -n "$(dig @127.0.0.1 -p "$p" +tries=1 +timeout=1 +short "$zone_name" SOA)" ]; do
        tries=$((tries + 1))
        if [ "$tries" -gt 240 ] || ! kill -0 "${pid[$name]}" 2>/dev/null; then
            echo "$name did not start; log:" >&2; tail -n 40 "$dir/server.log" >&2
            kill "${pid[$name]}" 2>/dev/null || true; unset "pid[$name]"
            # Under valgrind one server failing should not cost the others' figures.
            [ "$mode" = callgrind ] && return 1
            exit 1
        fi
        sleep 0.5
    done
    # Pin every thread of the server's process tree to the server CPU (Knot pins its UDP worker to CPU 0 itself).
    for p_ in $(tree_pids "${pid[$name]}"); do taskset -a -p -c "$server_cpu" "$p_" >/dev/null 2>&1 || true; done
}

tree_pids() {
    local p="$1"
    echo "$p"
    for child in $(ps -o pid= --ppid "$p" 2>/dev/null); do tree_pids "$child"; done
}

rss_kib() {
    local total=0
    for p_ in $(tree_pids "$1"); do
        local r; r=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p_/status" 2>/dev/null || echo 0)
        total=$((total + ${r:-0}))
    done
    echo "$total"
}

# CPU time (user + system, in clock ticks) of a server's process tree: with the client saturated, QPS alone
# understates a server that still has CPU to spare, so every round also prints CPU microseconds per query.
cpu_ticks() {
    local total=0
    for p_ in $(tree_pids "$1"); do
        local t; t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p_/stat" 2>/dev/null || echo 0)
        total=$((total + ${t:-0}))
    done
    echo "$total"
}

stop_server() {
    local name="$1" p_ tries=0
    [ -n "${pid[$name]:-}" ] || return 0
    local pids; pids=$(tree_pids "${pid[$name]}")
    for p_ in $pids; do kill "$p_" 2>/dev/null || true; done
    # Wait (bounded) until every process of the tree is gone, so callgrind has written its files.
    while [ "$tries" -lt 120 ]; do
        local alive=0
        for p_ in $pids; do kill -0 "$p_" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && break
        tries=$((tries + 1)); sleep 0.5
    done
    for p_ in $pids; do kill -9 "$p_" 2>/dev/null || true; done
    wait "${pid[$name]}" 2>/dev/null || true
    unset "pid[$name]"
}

stop_servers() {
    for name in "${!pid[@]}"; do stop_server "$name"; done
}
trap stop_servers EXIT

IFS=',' read -r -a server_list <<< "$servers"
if [ "$mode" = qps ]; then
    for name in "${server_list[@]}"; do
        echo "starting $name..." >&2
        start_server "$name"
    done
fi

# --- callgrind mode ----------------------------------------------------------------------------------------------
# Instructions per query = (instructions of a run answering 3,000 queries - instructions of a run answering none
# but lasting as long) / 3,000. Both runs first answer the same 1,000 warm-up queries, so one-time costs of the
# first queries (lazy buffers, first page touches) stay out. For mcdns and Knot the counters are zeroed after the
# warm-up (callgrind_control -z) and dumped right after the measured part (-d), so only that part counts: taking
# the difference of whole runs instead let start-up noise through (mcdns's 4.4 billion instructions of zone
# loading vary by more than the 6 million being measured, Swift's hashing being seeded per process). NSD answers
# from a forked grandchild, which callgrind_control cannot reach, so for NSD whole runs are compared: the idle run
# subtracts start-up, zone loading and timer wake-ups.
warmup() {
    taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[$1]}" -d "$out/queries-warmup.txt" -n 1 -q 10 -t 30 \
        > /dev/null 2>&1
}
zeroable() { [ "$1" != nsd ]; }
callgrind_total() {
    # Sum over the run's callgrind files of their "summary:" line; with a dump (.1 files) only those count.
    local f total=0 pattern="callgrind.out.*"
    compgen -G "$1/callgrind.out.*.1" > /dev/null && pattern="callgrind.out.*.1"
    for f in "$1"/$pattern; do
        [ -e "$f" ] || continue
        total=$(awk -v t="$total" '/^summary:/ { s = $2 } END { printf "%.0f", t + s }' "$f")
    done
    echo "$total"
}
# Zero the counters (zeroable servers) before the measured part, dump them after it.
measure_begin() { if zeroable "$1"; then callgrind_control -z "${pid[$1]}" > /dev/null 2>&1; fi; }
measure_end() { if zeroable "$1"; then callgrind_control -d "${pid[$1]}" > /dev/null 2>&1; fi; }

if [ "$mode" = callgrind ]; then
    printf '%-6s %14s %14s %12s\n' server idle_run loaded_run instr/query
    declare -A ipq
    for name in "${server_list[@]}"; do
        dir="$out/run-$name"
        echo "callgrind: $name, loaded run..." >&2
        if ! start_server "$name"; then
            printf '%-6s %14s %14s %12s   (did not start under valgrind: %s)\n' "$name" - - n/a "$dir/server.log"
            ipq[$name]=n/a
            continue
        fi
        warmup "$name"
        measure_begin "$name"
        started=$(date +%s.%N)
        taskset -c "$client_cpu" dnsperf -s 127.0.0.1 -p "${port[$name]}" -d "$out/queries-3000.txt" -n 1 -q 10 -t 30 \
            > "$out/dnsperf-callgrind-$name.txt" 2>&1
        took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
        measure_end "$name"
        completed=$(awk '/Queries completed:/ { print $3 }' "$out/dnsperf-callgrind-$name.txt")
        stop_server "$name"
        loaded=$(callgrind_total "$dir")
        echo "callgrind: $name, idle run of ${took}s..." >&2
        start_server "$name"
        warmup "$name"
        measure_begin "$name"
        sleep "$took"
        measure_end "$name"
        stop_server "$name"
        idle=$(callgrind_total "$dir")
        ipq[$name]=$(awk -v a="$loaded" -v b="$idle" -v q="${completed:-0}" \
            'BEGIN { if (q > 0) printf "%.0f", (a - b) / q; else print "n/a" }')
        printf '%-6s %14s %14s %12s   (%s queries answered)\n' "$name" "$idle" "$loaded" "${ipq[$name]}" "${completed:-0}"
    done
    for ref in knot nsd; do
        if [ -n "${ipq[mcdns]:-}" ] && [ -n "${ipq[$ref]:-}" ] && [ "${ipq[$ref]}" != n/a ] && [ "${ipq[mcdns]}" != n/a ]; then
            awk -v a="${ipq[mcdns]}" -v b="${ipq[$ref]}" -v r="$ref" \
                'BEGIN { printf "instructions/query mcdns/%s: %.2f%s\n", r, a / b, (r == "knot" ? " (goal <= 0.5)" : "") }'
        fi
    done
    exit 0
fi

# --- dnsperf rounds ----------------------------------------------------------------------------------------------
printf '%-5s %-6s %10s %11s %10s %10s\n' round server qps mean_ms rss_mib cpu_us/q
hz=$(getconf CLK_TCK)
results="$out/results.txt"
: > "$results"
for round in $(seq 1 "$rounds"); do
    for name in "${server_list[@]}"; do
        log="$out/dnsperf-$name-$round.txt"
        ticks_before=$(cpu_ticks "${pid[$name]}")
        taskset -c "$client_cpu" chrt -f 20 dnsperf -s 127.0.0.1 -p "${port[$name]}" -d "$queries" \
            -l "$seconds" -q 500 -c 4 -t 2 > "$log" 2>&1 || true
        ticks_after=$(cpu_ticks "${pid[$name]}")
        qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$log")
        completed=$(awk '/Queries completed:/ { print $3 }' "$log")
        cpu=$(awk -v t=$((ticks_after - ticks_before)) -v hz="$hz" -v n="${completed:-0}" \
              'BEGIN { if (n > 0) printf "%.2f", t / hz * 1e6 / n; else print "n/a" }')
        mean=$(awk '/Average Latency \(s\):/ { printf "%.3f", $4 * 1000 }' "$log")
        rss=$(awk -v k="$(rss_kib "${pid[$name]}")" 'BEGIN { printf "%.1f", k / 1024 }')
        printf '%-5s %-6s %10s %11s %10s %10s\n' "$round" "$name" "${qps:-n/a}" "${mean:-n/a}" "$rss" "$cpu"
        echo "$round $name ${qps:-0} $cpu" >> "$results"
    done
done

# Latency at a fixed offered load: -v reports every query's latency; p50 and p99 over all of them.
printf '%-6s %12s %10s %10s %10s\n' server offered_qps p50_ms p99_ms lost
for name in "${server_list[@]}"; do
    log="$out/dnsperf-latency-$name.txt"
    taskset -c "$client_cpu" chrt -f 20 dnsperf -s 127.0.0.1 -p "${port[$name]}" -d "$queries" \
        -l "$seconds" -q 500 -c 4 -t 2 -Q "$latency_qps" -v > "$log" 2>&1 || true
    read -r p50 p99 < <(awk '$1 == ">" && $NF ~ /^[0-9.]+$/ { print $NF }' "$log" | sort -g | \
        awk '{ v[NR] = $1 } END { if (NR) printf "%.3f %.3f\n", v[int(NR * 0.5)] * 1000, v[int(NR * 0.99)] * 1000; else print "n/a n/a" }')
    lost=$(awk '/Queries lost:/ { print $3 }' "$log")
    printf '%-6s %12s %10s %10s %10s\n' "$name" "$latency_qps" "$p50" "$p99" "${lost:-n/a}"
    rm -f "$log.gz"; gzip -f "$log"
done

# Ratios per round (same-round comparisons), then their mean.
for ref in knot nsd; do
    awk -v ref="$ref" '
        $2 == "mcdns" { m[$1] = $3 } $2 == ref { r[$1] = $3 }
        END {
            n = 0; s = 0; line = ""
            # Rounds in order (awk walks an array in no fixed order).
            for (k = 1; k in m; k++) if (k in r && r[k] > 0) { q = m[k] / r[k]; s += q; v[++n] = q; line = line sprintf(" %.2f", q) }
            # The median too: one round disturbed by the machine moves the mean more than it moves the median.
            for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            median = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
            if (n) printf "QPS mcdns/%s per round:%s  mean %.2f, median %.2f%s\n", ref, line, s / n, median, (ref == "knot" ? " (goal >= 1.3)" : "")
        }' "$results"
    awk -v ref="$ref" '
        $2 == "mcdns" { m[$1] = $4 } $2 == ref { r[$1] = $4 }
        END {
            n = 0; s = 0
            for (k = 1; k in m; k++) if (k in r && m[k] > 0) { s += r[k] / m[k]; n++ }
            if (n) printf "CPU per query %s/mcdns: mean %.2f (queries per CPU-second, relative)\n", ref, s / n
        }' "$results"
done
