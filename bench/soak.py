"""Driver of bench/soak.sh: a churn soak of the real `mcdns serve` under dnsperf load.

Members are mcdns-apisim processes (one per member) read through a kubeconfig. Member m0 sits behind a TCP proxy
this script cuts and restores, so it flaps: synced, stale (its last targets kept), offline past the grace period,
and back. EndpointSlices flip ready at --churn changes a minute across all members (m0 included, also while it is
cut off, as an API server that is up but unreachable). dnsperf sends queries at --load of the measured capacity.

A sampler asks `svc-J.bench.svc.clusterset.local A` every few milliseconds and checks the answer against the
history of what the members held: the ClusterIP of member K is in the answer exactly when, at some moment in the
last --bound seconds, member K was served for that service (its endpoint ready, and the member synced or stale).
Around m0's own transitions either answer is accepted: --slack seconds around the end of its grace period,
and --resync seconds after it is restored (the reconnect backoff reaches 30 s). Any other answer is a wrong answer, printed with what was expected.

At the end it prints crashes (mcdns exited), wrong answers, lost samples, dnsperf's figures and RSS over time;
it exits non-zero when mcdns crashed, an answer was wrong, or RSS after warm-up moved beyond ±5% of its mean.
"""
import argparse
import bisect
import json
import os
import random
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True, help="folder with mcdns and mcdns-apisim")
parser.add_argument("--zones", required=True)
parser.add_argument("--minutes", type=float, default=30)
parser.add_argument("--members", type=int, default=5)
parser.add_argument("--services", type=int, default=400)
parser.add_argument("--churn", type=int, default=1000, help="EndpointSlice changes a minute, over all members")
parser.add_argument("--load", type=float, default=0.7, help="dnsperf rate as a share of the measured capacity")
parser.add_argument("--grace", type=int, default=10, help="staleGracePeriod of the daemon, seconds")
parser.add_argument("--down", type=int, default=25, help="seconds m0 stays cut off in each flap")
parser.add_argument("--up", type=int, default=60, help="seconds m0 stays reachable between flaps")
parser.add_argument("--bound", type=float, default=3.0, help="seconds a change may take to reach the answers")
parser.add_argument("--slack", type=float, default=8.0, help="seconds either answer is accepted around m0's grace end")
parser.add_argument("--resync", type=float, default=40.0,
                    help="seconds after m0 is restored in which it may still be offline (reconnect backoff: 30 s at most)")
parser.add_argument("--warmup", type=float, default=0.2, help="share of the run before RSS is judged")
parser.add_argument("--seed", type=int, default=None)
args = parser.parse_args()
args.zones = os.path.abspath(args.zones)
args.bin = os.path.abspath(args.bin)
seed = args.seed if args.seed is not None else random.randrange(1 << 30)
rng = random.Random(seed)
print(f"soak: seed {seed}, {args.minutes} min, {args.members} members × {args.services} services, "
      f"churn {args.churn}/min, load {args.load:.0%}", flush=True)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cluster_ip(member, index):
    return f"10.{100 + member}.{index // 250}.{index % 250 + 1}"


def service(index, member):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": f"svc-{index}", "namespace": "bench", "annotations": {"mcdns.io/export": "true"}},
            "spec": {"clusterIP": cluster_ip(member, index), "ports": [{"name": "http", "port": 80}]}}


def endpoint_slice(index, member, ready):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"svc-{index}-1", "namespace": "bench",
                         "labels": {"kubernetes.io/service-name": f"svc-{index}"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [f"10.{200 + member}.{index // 250}.{index % 250 + 1}"],
                           "conditions": {"ready": ready}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def query_a(sock, name, qid):
    """(rcode, sorted A addresses), or None on a timeout."""
    packet = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\x00\x00\x01\x00\x01"
    sock.send(packet)
    deadline = time.monotonic() + 1.0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        try:
            data = sock.recv(4096)
        except (socket.timeout, ConnectionRefusedError):
            return None
        if len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid:
            break
    rcode = data[3] & 0x0F
    answers = struct.unpack(">H", data[6:8])[0]

    def skip_name(offset):
        while True:
            length = data[offset]
            if length == 0:
                return offset + 1
            if length & 0xC0 == 0xC0:
                return offset + 2
            offset += length + 1

    offset = skip_name(12) + 4
    result = []
    for _ in range(answers):
        offset = skip_name(offset)
        rtype, _, _, length = struct.unpack(">HHIH", data[offset:offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            result.append(".".join(str(b) for b in data[offset:offset + 4]))
        offset += length
    return rcode, sorted(result)


class History:
    """Per (member, service): each change of the endpoint's readiness, with the moments (monotonic) its request was
    sent and answered. The API server applies it at some moment in between, so the old value may still hold until
    the answer and the new one from the sending."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = {}     # when each change was sent, ascending
        self.answered = {}  # when each change's request was answered
        self.values = {}

    def set(self, key, when, value, answered=None):
        """Records a change sent at `when`; until `answered` is given (by `answer`), it is in flight."""
        with self.lock:
            self.times.setdefault(key, []).append(when)
            self.answered.setdefault(key, []).append(float("inf") if answered is None else answered)
            self.values.setdefault(key, []).append(value)

    def answer(self, key, when):
        with self.lock:
            self.answered[key][-1] = when

    def values_in(self, key, start, end):
        """Every value the key may have held at some moment in [start, end]: value k holds from its sending until
        the answer to change k + 1."""
        with self.lock:
            times, answered, values = self.times[key], self.answered[key], self.values[key]
            possible = set()
            for k in range(max(0, bisect.bisect_right(times, start) - 1), len(times)):
                if times[k] > end:
                    break
                if k + 1 == len(times) or answered[k + 1] >= start:
                    possible.add(values[k])
            # Changes sent before `start` but answered after it: the value before each may still have held.
            k = bisect.bisect_right(times, start) - 1
            while k >= 1 and answered[k] >= start:
                possible.add(values[k - 1])
                k -= 1
            return possible

    def value_at(self, key, when):
        with self.lock:
            times, values = self.times[key], self.values[key]
            return values[max(0, bisect.bisect_right(times, when) - 1)]


class FlappingProxy:
    """A TCP proxy in front of one member's API server that can be cut (every connection closed, new ones
    refused) and restored."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets = []
        self.listener = None
        self.cut_off = False
        self.open()

    def open(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self.accept, args=(listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.cut_off or listener is not self.listener:
                client.close()
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self.pump, args=(client, server), daemon=True).start()

    def pump(self, a, b):
        pair = [a, b]
        try:
            while True:
                readable, _, _ = select.select(pair, [], [], 1.0)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        raise OSError("closed")
                    (b if s is a else a).sendall(data)
        except OSError:
            pass
        finally:
            for s in pair:
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone leaves that accept() waiting on the old
        # socket, and the first client after the "cut" (the member's watch reconnecting) still got through.
        self.cut_off = True
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.sockets = []

    def restore(self):
        self.cut_off = False
        self.open()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


work = tempfile.mkdtemp(prefix="mcdns-soak-")
sims, mcdns, dnsperf = [], None, None
stop = threading.Event()
try:
    history = History()
    urls = []
    started = time.monotonic()
    for member in range(args.members):
        directory = os.path.join(work, f"m{member}")
        os.makedirs(directory)
        items = []
        for index in range(args.services):
            items.append(service(index, member))
            items.append(endpoint_slice(index, member, True))
            history.set((member, index), started, True, started)
        with open(os.path.join(directory, "objects.json"), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
        sim = subprocess.Popen([os.path.join(args.bin, "mcdns-apisim"), "--load", directory, "--bookmark-seconds", "5"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        sims.append(sim)
    for sim in sims:
        urls.append(sim.stdout.readline().strip())
    proxy = FlappingProxy(int(urls[0].rsplit(":", 1)[1]))
    served_urls = [f"http://127.0.0.1:{proxy.port}"] + urls[1:]

    kubeconfig = os.path.join(work, "members.kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n")
        for index, url in enumerate(served_urls):
            f.write(f"- {{ name: m{index}, cluster: {{ server: \"{url}\" }} }}\n")
        f.write("contexts:\n")
        for index in range(len(served_urls)):
            f.write(f"- {{ name: m{index}, context: {{ cluster: m{index} }} }}\n")
    port = free_port()
    config = os.path.join(work, "mcdns.yaml")
    with open(config, "w") as f:
        f.write(f'listen: {{ dns: ["127.0.0.1:{port}"], admin: "127.0.0.1:{free_port()}" }}\n')
        f.write(f'zonesDir: "{args.zones}"\nstateDir: "{work}/state"\nstaleGracePeriod: {args.grace}s\nclusters:\n')
        for index in range(len(served_urls)):
            f.write(f'  - {{ name: m{index}, region: r{index % 3}, zones: [z{index}], '
                    f'source: {{ kubeconfig: "{kubeconfig}", context: m{index} }} }}\n')

    log = open(os.path.join(work, "mcdns.log"), "w")
    mcdns = subprocess.Popen([os.path.join(args.bin, "mcdns"), "serve", "--config", config], stderr=log)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    last = f"svc-{args.services - 1}.bench.svc.clusterset.local"
    while True:
        if mcdns.poll() is not None:
            sys.exit("mcdns exited before the first sync; see its log")
        reply = query_a(sock, last, 1)
        if reply is not None and len(reply[1]) == args.members:
            break
        time.sleep(0.05)
    print(f"first full sync after {time.monotonic() - started:.1f} s", flush=True)

    # Capacity: dnsperf unthrottled for 10 s on the same names the load will send.
    names = os.path.join(work, "queries.txt")
    with open(names, "w") as f:
        for index in range(args.services):
            f.write(f"svc-{index}.bench.svc.clusterset.local A\n")
    measured = subprocess.run(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", names, "-l", "10", "-c", "4"],
                              capture_output=True, text=True).stdout
    capacity = float(re.search(r"Queries per second:\s+([\d.]+)", measured).group(1))
    rate = int(capacity * args.load)
    print(f"capacity {capacity:.0f} QPS; soaking at {rate} QPS", flush=True)
    duration = args.minutes * 60
    dnsperf_out = os.path.join(work, "dnsperf.txt")
    dnsperf = subprocess.Popen(["dnsperf", "-s", "127.0.0.1", "-p", str(port), "-d", names, "-l", str(int(duration)),
                                "-c", "4", "-Q", str(rate)], stdout=open(dnsperf_out, "w"), stderr=subprocess.STDOUT)
    soak_start = time.monotonic()
    soak_end = soak_start + duration

    # m0's served intervals: its state is frozen while cut, gone after the grace period, back after the resync.
    turns = []  # (time, "cut" | "restore")
    turns_lock = threading.Lock()

    def flapper():
        while not stop.is_set() and time.monotonic() < soak_end:
            if stop.wait(args.up):
                return
            proxy.cut()
            with turns_lock:
                turns.append((time.monotonic(), "cut"))
            if stop.wait(args.down):
                proxy.restore()
                return
            proxy.restore()
            with turns_lock:
                turns.append((time.monotonic(), "restore"))

    changes = [0]

    def churner():
        interval = 60.0 / args.churn
        next_at = time.monotonic()
        while not stop.is_set() and time.monotonic() < soak_end:
            member, index = rng.randrange(args.members), rng.randrange(args.services)
            ready = not history.value_at((member, index), time.monotonic())
            body = json.dumps(endpoint_slice(index, member, ready)).encode()
            request = urllib.request.Request(
                f"{urls[member]}/apis/discovery.k8s.io/v1/namespaces/bench/endpointslices/svc-{index}-1",
                data=body, method="PUT", headers={"Content-Type": "application/json"})
            # Recorded before it is sent: the sampler must know of a change the API server may already hold.
            sent = time.monotonic()
            history.set((member, index), sent, ready)
            with urllib.request.urlopen(request) as response:
                response.read()
            answered = time.monotonic()
            history.answer((member, index), answered)
            if answered - sent > 1.0:
                print(f"  slow change: m{member} svc-{index} took {answered - sent:.2f} s", flush=True)
            changes[0] += 1
            next_at += interval
            stop.wait(max(0.0, next_at - time.monotonic()))

    def m0_served_values(index, start, end):
        """The values m0's part of the answer may take for a query answered in [start, end]."""
        with turns_lock:
            local = list(turns)
        possible = set()
        # Walk m0's served state over the window, piece by piece between turns.
        cut_at = None
        for when, kind in local:
            if when > end:
                break
            cut_at = when if kind == "cut" else None
        frozen = history.value_at((0, index), cut_at) if cut_at is not None else None
        if cut_at is None:
            restored = [when for when, kind in local if kind == "restore" and when <= end]
            if restored and end - restored[-1] < args.resync:
                possible |= {True, False}
            possible |= history.values_in((0, index), start, end)
        else:
            offline_at = cut_at + args.grace
            if abs(end - offline_at) < args.slack or abs(start - offline_at) < args.slack:
                possible |= {True, False}
            elif end < offline_at:
                possible |= {frozen} | history.values_in((0, index), start, cut_at) if start < cut_at else {frozen}
            else:
                possible.add(False)
        # A cut that began inside the window: the state before it counts too.
        if cut_at is not None and cut_at > start:
            possible |= history.values_in((0, index), start, cut_at)
        return possible

    wrong, lost, samples = [], [0], [0]

    def sampler():
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("127.0.0.1", port))
        qid = 0
        while not stop.is_set() and time.monotonic() < soak_end:
            index = rng.randrange(args.services)
            qid = (qid + 1) & 0xFFFF
            asked = time.monotonic()
            reply = query_a(probe, f"svc-{index}.bench.svc.clusterset.local", qid)
            answered = time.monotonic()
            samples[0] += 1
            if reply is None:
                lost[0] += 1
                continue
            rcode, addresses = reply
            problems = []
            if rcode != 0:
                problems.append(f"rcode {rcode}")
            known = {cluster_ip(m, index): m for m in range(args.members)}
            for address in addresses:
                if address not in known:
                    problems.append(f"foreign address {address}")
            for member in range(args.members):
                present = cluster_ip(member, index) in addresses
                if member == 0:
                    allowed = m0_served_values(index, asked - args.bound, answered)
                else:
                    allowed = history.values_in((member, index), asked - args.bound, answered)
                if present not in allowed:
                    with history.lock:
                        changed = history.times[(member, index)][-1]
                    problems.append(f"m{member} {'present' if present else 'absent'}, expected {sorted(allowed)} "
                                    f"(its last change {asked - changed:.2f} s before the query)")
            if problems:
                wrong.append((round(asked - soak_start, 2), f"svc-{index}", addresses, problems))
                if len(wrong) <= 20:
                    print(f"WRONG at {asked - soak_start:.2f}s svc-{index}: {addresses} {problems}", flush=True)
            time.sleep(0.005)

    rss = []

    def rss_sampler():
        while not stop.is_set() and time.monotonic() < soak_end:
            if mcdns.poll() is not None:
                return
            rss.append((time.monotonic() - soak_start, rss_kib(mcdns.pid)))
            stop.wait(10)

    threads = [threading.Thread(target=f, daemon=True) for f in (flapper, churner, sampler, rss_sampler)]
    for thread in threads:
        thread.start()
    while time.monotonic() < soak_end:
        if mcdns.poll() is not None:
            break
        elapsed = time.monotonic() - soak_start
        if int(elapsed) % 60 == 0:
            print(f"  {elapsed / 60:.0f} min: {changes[0]} changes, {samples[0]} samples, {len(wrong)} wrong, "
                  f"{lost[0]} lost, RSS {rss[-1][1] / 1024 if rss else 0:.1f} MiB", flush=True)
        time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    crashed = mcdns.poll() is not None
    if dnsperf.poll() is None:
        dnsperf.terminate()
    dnsperf.wait()
    perf = open(dnsperf_out).read()
    completed = re.search(r"Queries completed:\s+(\d+)", perf)
    lost_q = re.search(r"Queries lost:\s+(\d+)", perf)

    print("\n== soak result")
    print(f"seed {seed}; {args.minutes} min; {changes[0]} EndpointSlice changes; "
          f"{len([t for t in turns if t[1] == 'cut'])} flaps of m0")
    print(f"dnsperf at {rate} QPS: completed {completed.group(1) if completed else '?'}, "
          f"lost {lost_q.group(1) if lost_q else '?'}")
    print(f"crashes: {1 if crashed else 0}")
    print(f"wrong answers: {len(wrong)} of {samples[0]} samples ({lost[0]} samples timed out)")
    print("RSS over time (s: MiB): " + ", ".join(f"{t:.0f}: {k / 1024:.1f}" for t, k in rss))
    steady = [k for t, k in rss if t >= duration * args.warmup]
    rss_ok = True
    if steady:
        mean = sum(steady) / len(steady)
        spread = max(abs(k - mean) / mean for k in steady)
        rss_ok = spread <= 0.05
        print(f"RSS after warm-up: mean {mean / 1024:.1f} MiB, largest deviation {spread:.1%} "
              f"({'within' if rss_ok else 'BEYOND'} ±5%)")
    if crashed:
        print("mcdns exited; the last lines of its log:\n" + open(os.path.join(work, "mcdns.log")).read()[-3000:])
    sys.exit(0 if not crashed and not wrong and rss_ok else 1)
finally:
    stop.set()
    if dnsperf and dnsperf.poll() is None:
        dnsperf.terminate()
    if mcdns and mcdns.poll() is None:
        mcdns.terminate()
        mcdns.wait()
    for sim in sims:
        sim.terminate()
        sim.wait()
    shutil.rmtree(work, ignore_errors=True)
