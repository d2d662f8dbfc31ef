"""Driver of bench/scale-matrix.sh: the real `mcdns serve` over members × services × topology shapes (issue 21).

Each member is a manifest directory (as examples/demo): a Node giving its region and zone, and per service in
50 namespaces an exported ClusterIP Service with one named port and one EndpointSlice of three ready endpoints.
Every member exports the same services (svc-S in ns-(S % 50)) with its own ClusterIP, 10.<m>.<S/250>.<S%250+1>.
The federation is `acme` of example.com, plus clusterset.local.

Shapes:
  MxS[:own|:shared]  M members × S services; own: member m alone in zone-m (region-(m % 3)); shared: three zones,
                     one per region, member m in region-(m % 3)'s zone.
  deleteN            member m0 exports N services from ONE manifest file (its slices in other files), members
                     m1, m2 export four more; the file is deleted live, then loaded again, mcdns stopped (state
                     saved), the file deleted, mcdns restarted from the saved state (the resync removes them).

Per shape: time from starting mcdns to the full table (the last service's clusterset.local name answers every
member's ClusterIP and /metrics counts every record), then mcdns runs --hold seconds more (the crash of issue 21
came seconds after the last sync). Then: RSS (VmRSS) and peak RSS (VmHWM) from /proc, the heap in use from
mallinfo2 (heapstat.so preloaded; the daemon does not expose it), bytes per endpoint (members × services × 3)
and per served name (the sum of every record's `names` in the admin API's /v1/records), a sample of answers
checked (dig for the clusterset.local names, a zone name and SRV; every record in /v1/records served by every
member). A crash (mcdns exiting on its own), a wrong answer or a timeout fails the shape loudly, and the script
exits 1.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

DEFAULT_SHAPES = "10x1500,10x2000,10x3000,16x1000,20x1000:shared,6x5000:shared,8x2000:shared,delete30000"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--bin", required=True, help="folder with the release mcdns")
parser.add_argument("--zones", required=True)
parser.add_argument("--heap-shim", default=None, help="heapstat.so to preload for heap figures")
parser.add_argument("--shapes", default=DEFAULT_SHAPES, help=f"comma-separated shapes (default {DEFAULT_SHAPES})")
parser.add_argument("--quick", action="store_true", help="services ÷ 10 and a 3 s hold: checks the script itself")
parser.add_argument("--hold", type=float, default=None, help="seconds to keep serving after the full table (10)")
parser.add_argument("--timeout", type=float, default=900, help="seconds a shape may take to reach its full table")
parser.add_argument("--seed", type=int, default=21)
parser.add_argument("--keep", action="store_true", help="keep the work folder (manifests, logs)")
args = parser.parse_args()
args.zones = os.path.abspath(args.zones)
args.bin = os.path.abspath(args.bin)
hold = args.hold if args.hold is not None else (3.0 if args.quick else 10.0)
NAMESPACES = 50
PER_FILE = 500


class ShapeFailure(Exception):
    pass


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def namespace(s):
    return f"ns-{s % NAMESPACES}"


def cluster_ip(m, s):
    return f"10.{m}.{s // 250}.{s % 250 + 1}"


def endpoint_ip(m, s, k):
    index = s * 3 + k
    return f"{20 + index // 65536}.{m}.{(index // 256) % 256}.{index % 256}"


def service(m, s, name=None, ns=None):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name or f"svc-{s}", "namespace": ns or namespace(s),
                         "annotations": {"mcdns.io/export": "true"}},
            "spec": {"clusterIP": cluster_ip(m, s), "ports": [{"name": "http", "port": 8080}]}}


def endpoint_slice(m, s, name=None, ns=None):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": f"{name or f'svc-{s}'}-1", "namespace": ns or namespace(s),
                         "labels": {"kubernetes.io/service-name": name or f"svc-{s}"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [endpoint_ip(m, s, k)], "conditions": {"ready": True}} for k in range(3)],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def node(m, region, zone):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": f"m{m}-node", "labels": {"topology.kubernetes.io/region": region,
                                                          "topology.kubernetes.io/zone": zone}}}


def write_list(path, items):
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f, separators=(",", ":"))


def topology(m, kind):
    if kind == "own":
        return f"region-{m % 3}", f"zone-{m}"
    return f"region-{m % 3}", f"region-{m % 3}a"


def query(sock, name, qtype=1, qid=1):
    """(rcode, [(type, rdata text)]) over UDP, or None on a timeout."""
    packet = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\x00" + struct.pack(">HH", qtype, 1)
    try:
        sock.send(packet)
    except OSError:
        return None
    deadline = time.monotonic() + 1.0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        try:
            data = sock.recv(65535)
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
            result.append((1, ".".join(str(b) for b in data[offset:offset + 4])))
        else:
            result.append((rtype, data[offset:offset + length].hex()))
        offset += length
    return rcode, result


def addresses(reply):
    return sorted(value for rtype, value in reply[1] if rtype == 1) if reply else None


def proc_kib(pid, field, file="status"):
    try:
        with open(f"/proc/{pid}/{file}") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class Daemon:
    """One `mcdns serve` run; every wait checks that it is still alive and raises ShapeFailure otherwise."""

    def __init__(self, work, config, port, admin, label):
        self.work, self.port, self.admin, self.label = work, port, admin, label
        self.log_path = os.path.join(work, f"mcdns-{label}.log")
        self.heap_path = os.path.join(work, f"heap-{label}.txt")
        env = dict(os.environ)
        if args.heap_shim:
            env["LD_PRELOAD"] = os.path.abspath(args.heap_shim)
            env["MCDNS_BENCH_HEAP_FILE"] = self.heap_path
        self.log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen([os.path.join(args.bin, "mcdns"), "serve", "--config", config],
                                        stderr=self.log, stdout=self.log, env=env)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(("127.0.0.1", port))
        self.qid = 0
        self.peak_seen = 0

    def log_tail(self, chars=4000):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-chars:]

    def crash_report(self):
        """The crashed thread's backtrace (Swift's runtime prints it after "*** Program crashed"), else the log's end."""
        text = self.log_tail(1 << 22)
        start = text.find("*** Program crashed")
        if start < 0:
            return text[-4000:]
        crashed = re.compile(r"^Thread \d+.* crashed:$", re.M).search(text, start)
        header = text[start:text.find("\n", start)]
        return header + "\n" + (text[crashed.start():crashed.start() + 2500] if crashed else text[start:start + 4000])

    def alive(self):
        code = self.process.poll()
        if code is not None:
            how = f"killed by signal {-code}" if code < 0 else f"exited with status {code}"
            raise ShapeFailure(f"CRASH: mcdns {how} ({self.label}); its log:\n{self.crash_report()}")
        rss = proc_kib(self.process.pid, "VmRSS")
        if rss:
            self.peak_seen = max(self.peak_seen, rss)

    def ask(self, name, qtype=1):
        self.alive()
        self.qid = (self.qid + 1) & 0xFFFF
        return query(self.sock, name, qtype, self.qid)

    def http(self, path):
        self.alive()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin}{path}", timeout=60) as response:
            return response.read()

    def metric(self, name):
        try:
            text = self.http("/metrics").decode()
        except OSError:
            return None
        found = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(found.group(1)) if found else None

    def wait(self, what, condition, timeout=None, pause=0.02):
        """Polls condition() until true; seconds since this run started."""
        deadline = time.monotonic() + (timeout or args.timeout)
        while True:
            self.alive()
            if condition():
                return time.monotonic() - self.started
            if time.monotonic() > deadline:
                raise ShapeFailure(f"TIMEOUT: {what} not reached in {timeout or args.timeout:.0f} s ({self.label})")
            time.sleep(pause)

    def hold(self, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.alive()
            time.sleep(0.2)

    def heap(self):
        """Bytes of heap in use, from a sample taken after this call, or None without the shim."""
        if not args.heap_shim:
            return None
        asked = time.monotonic()
        while time.monotonic() < asked + 5:
            self.alive()
            try:
                if os.path.getmtime(self.heap_path) > time.time() - (time.monotonic() - asked) + 0.05:
                    with open(self.heap_path) as f:
                        return int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.1)
        return None

    def memory(self):
        pid = self.process.pid
        self.alive()
        return {"rss": proc_kib(pid, "VmRSS") * 1024, "hwm": proc_kib(pid, "VmHWM") * 1024, "heap": self.heap()}

    def stop(self):
        """SIGTERM; a clean exit (0) is required."""
        self.alive()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise ShapeFailure(f"mcdns did not stop within 60 s of SIGTERM ({self.label})")
        self.log.close()
        if code != 0:
            raise ShapeFailure(f"CRASH: mcdns exited {code} on SIGTERM ({self.label}):\n{self.log_tail()}")

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log.closed:
            self.log.close()


def write_config(work, members):
    port, admin = free_port(), free_port(socket.SOCK_STREAM)
    config = os.path.join(work, "mcdns.yaml")
    with open(config, "w") as f:
        f.write(f'listen: {{ dns: ["127.0.0.1:{port}"], admin: "127.0.0.1:{admin}" }}\n')
        f.write(f'zonesDir: "{args.zones}"\nstateDir: "{work}/state"\n')
        f.write("federation: { name: acme, domain: example.com }\nclusterset: { domain: clusterset.local }\n")
        f.write("ttl: { record: 30, degraded: 5, negative: 5 }\nclusters:\n")
        for m in range(members):
            f.write(f'  - {{ name: m{m}, source: {{ manifests: "{work}/members/m{m}" }} }}\n')
    return config, port, admin


def records_view(daemon):
    view = json.loads(daemon.http("/v1/records"))
    return view["records"]


def dig(daemon, name, qtype="A"):
    out = subprocess.run(["dig", "+short", "+tries=1", "+time=2", "@127.0.0.1", "-p", str(daemon.port), name, qtype],
                         capture_output=True, text=True, timeout=10).stdout.split("\n")
    return sorted(line for line in out if line)


def check_sample(daemon, members, services, kind, rng):
    """A sample of answers: clusterset A (every member's ClusterIP, by dig), the global and zone federation
    names, SRV of the named port. Returns the number of names checked."""
    sample = sorted({0, services - 1} | {rng.randrange(services) for _ in range(4)})
    checked = 0
    for s in sample:
        ns = namespace(s)
        want = sorted(cluster_ip(m, s) for m in range(members))
        got = dig(daemon, f"svc-{s}.{ns}.svc.clusterset.local")
        if got != want:
            raise ShapeFailure(f"WRONG: dig svc-{s}.{ns}.svc.clusterset.local A gave {got}, expected {want}")
        glob = addresses(daemon.ask(f"svc-{s}.{ns}.acme.svc.example.com"))
        if glob != want:
            raise ShapeFailure(f"WRONG: svc-{s}.{ns}.acme.svc.example.com A gave {glob}, expected {want}")
        m = rng.randrange(members)
        region, zone = topology(m, kind)
        in_zone = sorted(cluster_ip(o, s) for o in range(members) if topology(o, kind)[1] == zone)
        got = addresses(daemon.ask(f"svc-{s}.{ns}.acme.svc.{zone}.{region}.example.com"))
        if got != in_zone:
            raise ShapeFailure(f"WRONG: svc-{s}.{ns}.acme.svc.{zone}.{region}.example.com A gave {got}, "
                               f"expected {in_zone}")
        srv = dig(daemon, f"_http._tcp.svc-{s}.{ns}.svc.clusterset.local", "SRV")
        if len(srv) != 1 or srv[0].split()[2:] != ["8080", f"svc-{s}.{ns}.svc.clusterset.local."]:
            raise ShapeFailure(f"WRONG: SRV _http._tcp.svc-{s}.{ns}.svc.clusterset.local gave {srv}")
        checked += 4
    missing = daemon.ask(f"svc-{services}.{namespace(services)}.svc.clusterset.local")
    if not missing or missing[0] != 3:
        raise ShapeFailure(f"WRONG: a service that does not exist answered {missing} (NXDOMAIN expected)")
    return checked + 1


def full_table(daemon, members, services, extra=0):
    """The last service answers every member's ClusterIP and /metrics counts every record."""
    last = services - 1
    want = sorted(cluster_ip(m, last) for m in range(members))
    name = f"svc-{last}.{namespace(last)}.svc.clusterset.local"
    return lambda: addresses(daemon.ask(name)) == want and daemon.metric("mcdns_records_services") == services + extra


def served(daemon, members, services, extra=0):
    """Every record served by every member; the number of names the admin API says are served."""
    records = records_view(daemon)
    if len(records) != services + extra:
        raise ShapeFailure(f"WRONG: /v1/records lists {len(records)} records, expected {services + extra}")
    every = sorted(f"m{m}" for m in range(members))
    for record in records:
        # `serving` (the clusters whose targets the answers use) is in the admin API since issue 22; before, the
        # clusters of the record's status.
        serving = record.get("serving")
        if serving is None:
            serving = [dns["cluster"] for dns in record["status"].get("dns", []) if dns.get("readyEndpoints", 0) > 0]
        if record["name"].startswith("svc-") and sorted(serving) != every:
            raise ShapeFailure(f"WRONG: {record['namespace']}/{record['name']} served by {serving}, "
                               f"expected {every}")
        if record.get("problems"):
            raise ShapeFailure(f"WRONG: {record['namespace']}/{record['name']} has problems {record['problems']}")
    return sum(len(record["names"]) for record in records)


def row(shape, seconds, memory, endpoints, names, checked, note="", ratios=True):
    """ratios: whether bytes per endpoint and per name mean anything (not for a table emptied to a few names)."""
    return {"shape": shape, "seconds": seconds, "rss": memory["rss"], "hwm": memory["hwm"], "heap": memory["heap"],
            "endpoints": endpoints, "names": names, "checked": checked, "note": note, "ratios": ratios}


def run_grid(work, members, services, kind, label, rng):
    for m in range(members):
        directory = os.path.join(work, "members", f"m{m}")
        os.makedirs(directory)
        write_list(os.path.join(directory, "nodes.json"), [node(m, *topology(m, kind))])
        for first in range(0, services, PER_FILE):
            items = []
            for s in range(first, min(services, first + PER_FILE)):
                items += [service(m, s), endpoint_slice(m, s)]
            write_list(os.path.join(directory, f"services-{first // PER_FILE:03}.json"), items)
    config, port, admin = write_config(work, members)
    daemon = Daemon(work, config, port, admin, label)
    try:
        seconds = daemon.wait("the full table", full_table(daemon, members, services))
        daemon.hold(hold)
        memory = daemon.memory()
        checked = check_sample(daemon, members, services, kind, rng)
        names = served(daemon, members, services)
        daemon.stop()
    finally:
        daemon.kill()
    return [row(label, seconds, memory, members * services * 3, names, checked)]


def run_delete(work, services, label, rng):
    """Issue 21's other direction: N services from one file, deleted live, then again across a restart."""
    members = 3
    keep = 4
    for m in range(members):
        directory = os.path.join(work, "members", f"m{m}")
        os.makedirs(directory)
        write_list(os.path.join(directory, "nodes.json"), [node(m, *topology(m, "own"))])
        if m > 0:
            items = []
            for k in range(keep):
                items += [service(m, 60_000 + k, f"keep-{k}", "keep"), endpoint_slice(m, 60_000 + k, f"keep-{k}", "keep")]
            write_list(os.path.join(directory, "keep.json"), items)
    m0 = os.path.join(work, "members", "m0")
    big = os.path.join(m0, "services.json")
    for first in range(0, services, PER_FILE):
        write_list(os.path.join(m0, f"slices-{first // PER_FILE:03}.json"),
                   [endpoint_slice(0, s) for s in range(first, min(services, first + PER_FILE))])
    big_items = [service(0, s) for s in range(services)]
    write_list(big, big_items)
    size = os.path.getsize(big)
    config, port, admin = write_config(work, members)
    last = f"svc-{services - 1}.{namespace(services - 1)}.svc.clusterset.local"
    keep_name = "keep-0.keep.svc.clusterset.local"
    keep_want = sorted(cluster_ip(m, 60_000) for m in (1, 2))
    rows = []

    def emptied(daemon):
        return lambda: (daemon.ask(last) or (0,))[0] == 3 and daemon.metric("mcdns_records_services") == keep

    def after_delete(daemon):
        if addresses(daemon.ask(keep_name)) != keep_want:
            raise ShapeFailure(f"WRONG: {keep_name} gave {addresses(daemon.ask(keep_name))}, expected {keep_want}")
        for s in (0, services // 2, services - 1):
            reply = daemon.ask(f"svc-{s}.{namespace(s)}.svc.clusterset.local")
            if not reply or reply[0] != 3:
                raise ShapeFailure(f"WRONG: svc-{s} still answers {reply} after its file was deleted")
        return served(daemon, 2, 0, keep)

    daemon = Daemon(work, config, port, admin, f"{label}-1")
    try:
        seconds = daemon.wait("the full table", full_table(daemon, 1, services, keep))
        daemon.hold(hold)
        memory = daemon.memory()
        checked = check_sample(daemon, 1, services, "own", rng)
        names = served(daemon, 1, services, keep)
        rows.append(row(f"{label} load", seconds, memory, services * 3 + 2 * keep * 3, names, checked,
                        f"one file of {size / 1e6:.1f} MB"))
        os.remove(big)
        deleted = time.monotonic()
        daemon.wait("the table without the file's services", emptied(daemon))
        seconds = time.monotonic() - deleted
        daemon.hold(hold)
        memory = daemon.memory()
        names = after_delete(daemon)
        rows.append(row(f"{label} file deleted", seconds, memory, 2 * keep * 3, names, 4,
                        "time from the delete; m0's slices stay cached", ratios=False))
        write_list(big, big_items)
        daemon.wait("the full table again", full_table(daemon, 1, services, keep))
        daemon.stop()
    finally:
        daemon.kill()
    os.remove(big)
    daemon = Daemon(work, config, port, admin, f"{label}-2")
    try:
        daemon.wait("the saved state loaded", lambda: "state loaded" in daemon.log_tail(1 << 20), pause=0.05)
        loaded = re.search(r"^.*records=(\d+).*state loaded.*$", daemon.log_tail(1 << 20), re.M)
        restored = int(loaded.group(1)) if loaded else None
        if restored != services + keep:
            raise ShapeFailure(f"WRONG: the saved state held {restored} records, expected {services + keep}")
        seconds = daemon.wait("the resync removing the file's services", emptied(daemon))
        daemon.hold(hold)
        memory = daemon.memory()
        names = after_delete(daemon)
        rows.append(row(f"{label} restart", seconds, memory, 2 * keep * 3, names, 4,
                        f"state of {restored} records loaded, resync removed them", ratios=False))
        daemon.stop()
    finally:
        daemon.kill()
    return rows


def mib(value):
    return "n/a" if value is None else f"{value / 1048576:.1f}"


def per(value, count):
    return "n/a" if value is None or not count else f"{value / count:,.0f}"


def main():
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    rng = random.Random(args.seed)
    rows, failures = [], []
    print(f"scale matrix: {len(shapes)} shapes, hold {hold:.0f} s{', quick' if args.quick else ''}; "
          f"heap {'from mallinfo2 (heapstat.so preloaded)' if args.heap_shim else 'not measured'}", flush=True)
    for shape in shapes:
        work = tempfile.mkdtemp(prefix="mcdns-matrix-")
        started = time.monotonic()
        try:
            grid = re.fullmatch(r"(\d+)x(\d+)(?::(own|shared))?", shape)
            delete = re.fullmatch(r"delete(\d+)", shape)
            if grid:
                members, services = int(grid.group(1)), int(grid.group(2))
                kind = grid.group(3) or "own"
                if args.quick:
                    services = max(50, services // 10)
                label = f"{members}x{services}:{kind}"
                print(f"== {label}: generating…", flush=True)
                result = run_grid(work, members, services, kind, label, rng)
            elif delete:
                services = int(delete.group(1))
                if args.quick:
                    services = max(50, services // 10)
                label = f"delete{services}"
                print(f"== {label}: generating…", flush=True)
                result = run_delete(work, services, label, rng)
            else:
                raise ShapeFailure(f"unknown shape {shape!r}: use MxS[:own|:shared] or deleteN")
            for r in result:
                print(f"   {r['shape']}: {r['seconds']:.1f} s, RSS {mib(r['rss'])} MiB, heap {mib(r['heap'])} MiB, "
                      f"{r['names']:,} names, ok", flush=True)
            rows += result
        except ShapeFailure as failure:
            print(f"!! {shape} FAILED after {time.monotonic() - started:.0f} s: {failure}", flush=True)
            failures.append(shape)
            args.keep_this = True
        finally:
            if args.keep or getattr(args, "keep_this", False):
                args.keep_this = False
                print(f"   work folder kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)

    print()
    print("| shape | time to table (s) | RSS MiB | peak RSS MiB | heap in use MiB | endpoints | served names "
          "| RSS B/endpoint | RSS B/name | heap B/name | answers checked | crashed | note |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        if not r["ratios"]:
            r["rss_per"] = r["rss_name"] = r["heap_name"] = "–"
        else:
            r["rss_per"] = per(r["rss"], r["endpoints"])
            r["rss_name"], r["heap_name"] = per(r["rss"], r["names"]), per(r["heap"], r["names"])
        print(f"| {r['shape']} | {r['seconds']:.1f} | {mib(r['rss'])} | {mib(r['hwm'])} | {mib(r['heap'])} "
              f"| {r['endpoints']:,} | {r['names']:,} | {r['rss_per']} | {r['rss_name']} "
              f"| {r['heap_name']} | {r['checked']} | no | {r['note']} |")
    for shape in failures:
        print(f"| {shape} | FAILED (see above) | | | | | | | | | | YES or wrong | |")
    print("\nRSS: VmRSS after the hold; peak: VmHWM; heap: glibc mallinfo2 in use (uordblks + hblkhd). Served names: "
          "the sum of `names` over /v1/records (admin API). Endpoints: members × services × 3.")
    if failures:
        print(f"\nFAILED shapes: {', '.join(failures)}", file=sys.stderr)
        sys.exit(1)


main()
