"""Driver of bench/propagation.sh: members as mcdns-apisim processes, mcdns serve, DNS over UDP, all timed."""
import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--bin", required=True)
parser.add_argument("--zones", required=True)
parser.add_argument("--members", type=int, default=20)
parser.add_argument("--services", type=int, default=5000)
parser.add_argument("--changes", type=int, default=1000)
args = parser.parse_args()
args.zones = os.path.abspath(args.zones)
args.bin = os.path.abspath(args.bin)


def service(name, ip):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "bench", "annotations": {"mcdns.io/export": "true"}},
            "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80}]}}


def endpoint_slice(name, svc, address):
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": "bench", "labels": {"kubernetes.io/service-name": svc}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}


def ip(a, index):
    return f"10.{a}.{index // 250}.{index % 250 + 1}"


def query_a(sock, name, qid):
    """One A query; the sorted A addresses of the answer (empty on an error rcode), None on timeout."""
    packet = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\x00\x00\x01\x00\x01"
    sock.send(packet)
    while True:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            return None
        if struct.unpack(">H", data[:2])[0] == qid:
            break
    if data[3] & 0x0F:
        return []
    answers = struct.unpack(">H", data[6:8])[0]
    offset = 12

    def skip_name(offset):
        while True:
            length = data[offset]
            if length == 0:
                return offset + 1
            if length & 0xC0 == 0xC0:
                return offset + 2
            offset += length + 1

    offset = skip_name(offset) + 4
    result = []
    for _ in range(answers):
        offset = skip_name(offset)
        rtype, _, _, length = struct.unpack(">HHIH", data[offset:offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            result.append(".".join(str(b) for b in data[offset:offset + 4]))
        offset += length
    return sorted(result)


work = tempfile.mkdtemp(prefix="mcdns-propagation-")
sims = []
mcdns = None
try:
    print(f"generating {args.members} members × {args.services} services (+1 EndpointSlice each)…", file=sys.stderr)
    urls = []
    for member in range(args.members):
        directory = os.path.join(work, f"m{member}")
        os.makedirs(directory)
        items = []
        for index in range(args.services):
            items.append(service(f"svc-{index}", ip(96, (member * 250 + index) % 62500)))
            items.append(endpoint_slice(f"svc-{index}-1", f"svc-{index}", ip(member + 1, index)))
        if member == 0:
            probe = service("probe", "None")
            probe["spec"]["clusterIP"] = "None"
            items.append(probe)
            items.append(endpoint_slice("probe-1", "probe", "10.200.0.1"))
        with open(os.path.join(directory, "objects.json"), "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": items}, f)
        sim = subprocess.Popen([os.path.join(args.bin, "mcdns-apisim"), "--load", directory, "--bookmark-seconds", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        sims.append(sim)
    for sim in sims:
        urls.append(sim.stdout.readline().strip())
    print(f"members up: {urls[0]} …", file=sys.stderr)

    kubeconfig = os.path.join(work, "members.kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write("apiVersion: v1\nkind: Config\nclusters:\n")
        for index, url in enumerate(urls):
            f.write(f"- {{ name: m{index}, cluster: {{ server: \"{url}\" }} }}\n")
        f.write("contexts:\n")
        for index in range(len(urls)):
            f.write(f"- {{ name: m{index}, context: {{ cluster: m{index} }} }}\n")
    probe_socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe_socket.bind(("127.0.0.1", 0))
    port = probe_socket.getsockname()[1]
    probe_socket.close()
    config = os.path.join(work, "mcdns.yaml")
    with open(config, "w") as f:
        f.write(f'listen: {{ dns: ["127.0.0.1:{port}"], admin: "127.0.0.1:0" }}\n')
        f.write(f'zonesDir: "{args.zones}"\nstateDir: "{work}/state"\nclusters:\n')
        for index in range(len(urls)):
            f.write(f'  - {{ name: m{index}, region: r{index % 3}, zones: [z{index}], '
                    f'source: {{ kubeconfig: "{kubeconfig}", context: m{index} }} }}\n')

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    sock.settimeout(1.0)
    qid = 0
    log = open(os.path.join(work, "mcdns.log"), "w")
    started = time.monotonic()
    mcdns = subprocess.Popen([os.path.join(args.bin, "mcdns"), "serve", "--config", config], stderr=log)
    last = f"svc-{args.services - 1}.bench.svc.clusterset.local"
    # All members synced: the last service answers with one ClusterIP per member (its Service and EndpointSlice
    # lists were applied everywhere).
    while True:
        if mcdns.poll() is not None:
            log.close()
            sys.exit("mcdns exited:\n" + open(os.path.join(work, "mcdns.log")).read()[-3000:])
        qid = (qid + 1) & 0xFFFF
        try:
            answer = query_a(sock, last, qid)
        except ConnectionRefusedError:
            answer = None
        if answer is not None and len(answer) == args.members:
            break
        time.sleep(0.005)
    sync = time.monotonic() - started
    print(f"first full sync, {args.members} members × {args.services} services (+ slices): {sync:.2f} s from mcdns start")

    probe = "probe.bench.svc.clusterset.local"
    latencies = []
    for change in range(args.changes):
        address = f"10.200.{1 + change // 250}.{change % 250 + 1}"
        body = json.dumps(endpoint_slice("probe-1", "probe", address)).encode()
        request = urllib.request.Request(f"{urls[0]}/apis/discovery.k8s.io/v1/namespaces/bench/endpointslices/probe-1",
                                         data=body, method="PUT", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            response.read()
        accepted = time.monotonic()
        while True:
            qid = (qid + 1) & 0xFFFF
            if query_a(sock, probe, qid) == [address]:
                break
        latencies.append((time.monotonic() - accepted) * 1000)
        if latencies[-1] > 100:
            print(f"  change {change} took {latencies[-1]:.0f} ms", flush=True)
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, max(0, int(len(latencies) * p + 0.999999) - 1))]

    print(f"EndpointSlice change accepted → changed DNS answer, {args.changes} changes: "
          f"p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms, max {latencies[-1]:.2f} ms")
finally:
    if mcdns:
        mcdns.terminate()
        mcdns.wait()
    for sim in sims:
        sim.terminate()
        sim.wait()
    shutil.rmtree(work, ignore_errors=True)
