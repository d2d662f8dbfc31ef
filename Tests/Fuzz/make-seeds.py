#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Seeds/<target>/) from real inputs in the repository.

Run from anywhere: python3 Tests/Fuzz/make-seeds.py [KUBE_TRANSCRIPTS_DIR] [STATE_FILE]. The seeds are committed;
rerun this only to refresh them. Seeds/dns/ (query packets) is kept by hand.

- kube-json: the JSON bodies of the recorded API server responses (lists, statuses, discovery) and each event
  line of the recorded watch bodies.
- watch-framing: each recorded watch body, behind the two bytes WatchFramingFuzzEntry reads first (cap byte,
  chunking byte), once with a cap above every event and once with a cap that drops long events.
- manifest: every YAML file of examples/ and deploy/ (manifests, ServiceDNSRecords, kustomizations).
- config: every mcdns.yaml of examples/ and deploy/.
- state-file: a state file saved by `mcdns serve` (mode byte 0, then the file) and its JSON payload alone
  (mode byte 1: StateFileFuzzEntry frames it with a valid header).
"""
import glob
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
transcripts = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/kube-transcripts"
state_file = sys.argv[2] if len(sys.argv) > 2 else None


def write(target, name, data):
    directory = os.path.join(here, "Seeds", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def response_body(path):
    text = open(path, "rb").read()
    marker = text.find(b"### RESPONSE")
    if marker < 0:
        return None
    end_of_headers = text.find(b"\r\n\r\n", marker)
    separator = 4
    if end_of_headers < 0:
        end_of_headers = text.find(b"\n\n", marker)
        separator = 2
    if end_of_headers < 0:
        return None
    return text[end_of_headers + separator:].strip()


for path in sorted(glob.glob(os.path.join(transcripts, "*.http"))):
    name = os.path.splitext(os.path.basename(path))[0]
    body = response_body(path)
    if not body or not body.startswith(b"{"):
        continue
    lines = [line.strip() for line in body.split(b"\n") if line.strip()]
    if "watch" in name and len(lines) > 1:
        for index, line in enumerate(lines[:12]):
            write("kube-json", f"{name}-event{index:02}", line)
        write("watch-framing", f"{name}", bytes([255, 7]) + body + b"\n")
        write("watch-framing", f"{name}-cap-1024", bytes([31, 200]) + body)
    else:
        write("kube-json", name, body)

for path in sorted(glob.glob(os.path.join(root, "examples", "**", "*.yaml"), recursive=True)
                   + glob.glob(os.path.join(root, "deploy", "**", "*.yaml"), recursive=True)):
    relative = os.path.relpath(path, root).replace("/", "_")
    data = open(path, "rb").read()
    target = "config" if os.path.basename(path) == "mcdns.yaml" else "manifest"
    write(target, relative, data)

if state_file:
    data = open(state_file, "rb").read()
    write("state-file", "demo-records.state", bytes([0]) + data)
    write("state-file", "demo-payload.json", bytes([1]) + data[24:])
    write("state-file", "empty-payload.json", bytes([1]) + b'{"clusters":[],"records":[],"savedAt":0,"serial":1,"serialReserved":2}')
    write("state-file", "truncated-header", bytes([0]) + data[:20])

# tcp-framing: the DNS seeds behind their 2-byte length (TCPFramingFuzzEntry's first byte seeds the segment
# sizes), one at a time, all pipelined in one stream, and a stream whose last message is cut short.
dns_seeds = [open(path, "rb").read() for path in sorted(glob.glob(os.path.join(here, "Seeds", "dns", "*")))]


def framed(message):
    return len(message).to_bytes(2, "big") + message


for index, path in enumerate(sorted(glob.glob(os.path.join(here, "Seeds", "dns", "*")))):
    write("tcp-framing", os.path.basename(path), bytes([index * 17 % 256]) + framed(open(path, "rb").read()))
pipelined = b"".join(framed(message) for message in dns_seeds)
write("tcp-framing", "pipelined-all", bytes([3]) + pipelined)
write("tcp-framing", "pipelined-then-cut", bytes([200]) + pipelined + framed(dns_seeds[0])[:7])

# tunnel: the agent's upgrade request (as AgentUpgradeRequestHandler and NIO's WebSocket client send it), then
# masked binary frames carrying the start of HTTP/2 (preface, SETTINGS, a PING), as the agent's
# WebSocketByteStreamHandler writes them; and the refusals (wrong token, wrong path, no upgrade).


def request(path="/tunnel/v1", token="fuzz-token", upgrade=True):
    lines = [f"GET {path} HTTP/1.1", "host: mcdns-host.example.com:8443", "X-MCDNS-Cluster: east-1",
             "content-length: 0"]
    if token:
        lines.append(f"authorization: Bearer {token}")
    if upgrade:
        lines += ["upgrade: websocket", "connection: upgrade", "sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==",
                  "sec-websocket-version: 13"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frame(payload, opcode=2, mask=b"\x11\x22\x33\x44"):
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
    return header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
settings = bytes([0, 0, 12, 4, 0, 0, 0, 0, 0]) + bytes([0, 3, 0, 0, 0, 100, 0, 4, 0, 16, 0, 0])
ping = bytes([0, 0, 8, 6, 0, 0, 0, 0, 0]) + b"mcdnspng"
write("tunnel", "upgrade-preface-settings", bytes([9]) + request() + frame(preface) + frame(settings))
write("tunnel", "upgrade-one-frame", bytes([40]) + request() + frame(preface + settings + ping))
write("tunnel", "upgrade-long-frame", bytes([77]) + request() + frame(preface + settings + ping * 20))
write("tunnel", "upgrade-ping-close", bytes([1]) + request() + frame(b"hello", opcode=9) + frame(b"\x03\xe8", opcode=8))
write("tunnel", "upgrade-text-frame", bytes([5]) + request() + frame(b"not binary", opcode=1))
write("tunnel", "wrong-token", bytes([2]) + request(token="stolen"))
write("tunnel", "no-token", bytes([3]) + request(token=None))
write("tunnel", "wrong-path", bytes([4]) + request(path="/api/v1/secrets"))
write("tunnel", "no-upgrade", bytes([6]) + request(upgrade=False))
write("tunnel", "allowed-list-target", bytes([7]) + request(path="/api/v1/namespaces/shop/services?watch=1"))
