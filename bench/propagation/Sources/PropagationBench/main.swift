import Foundation
import KubeAPISimulator

#if canImport(Glibc)
import Glibc
#endif

// Simulated members (in this process) → HTTP → `mcdns serve` (subprocess) → UDP DNS answers, timed.

func option(_ name: String, _ fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

let members = Int(option("members", "20"))!
let services = Int(option("services", "5000"))!
let changes = Int(option("changes", "1000"))!
let mcdns = option("mcdns", "mcdns")
let zones = option("zones", "zones")

func service(_ name: String, _ ip: String) -> String {
    #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"bench","annotations":{"mcdns.io/export":"true"}},"spec":{"clusterIP":"\#(ip)","ports":[{"name":"http","port":80}]}}"#
}

func headless(_ name: String) -> String {
    #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"bench","annotations":{"mcdns.io/export":"true"}},"spec":{"clusterIP":"None","ports":[{"name":"http","port":80}]}}"#
}

func slice(_ name: String, _ service: String, _ address: String) -> String {
    #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"\#(name)","namespace":"bench","labels":{"kubernetes.io/service-name":"\#(service)"}},"addressType":"IPv4","endpoints":[{"addresses":["\#(address)"],"conditions":{"ready":true}}],"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}"#
}

func ip(_ a: Int, _ index: Int) -> String { "10.\(a).\(index / 250).\(index % 250 + 1)" }

// MARK: - DNS over UDP, minimal: one A question, answers read as raw 4-byte RDATA.

final class Resolver {
    let fd: Int32
    var id: UInt16 = 1

    init(port: UInt16) {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The A records of `name` (sorted, dotted), nil on timeout or an error rcode.
    func a(_ name: String) -> [String]? {
        id &+= 1
        var query: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in name.split(separator: ".") {
            query.append(UInt8(label.utf8.count))
            query.append(contentsOf: label.utf8)
        }
        query += [0, 0, 1, 0, 1]
        _ = query.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 12 { return nil }
            if UInt16(buffer[0]) << 8 | UInt16(buffer[1]) != id { continue }
            return Self.parse(Array(buffer[..<count]))
        }
    }

    static func parse(_ packet: [UInt8]) -> [String]? {
        guard packet[3] & 0x0f == 0 else { return [] }
        let answers = Int(packet[6]) << 8 | Int(packet[7])
        var offset = 12
        func skipName() {
            while offset < packet.count {
                let length = Int(packet[offset])
                if length == 0 { offset += 1; return }
                if length & 0xc0 == 0xc0 { offset += 2; return }
                offset += length + 1
            }
        }
        skipName()
        offset += 4
        var result: [String] = []
        for _ in 0..<answers {
            skipName()
            guard offset + 10 <= packet.count else { return nil }
            let type = Int(packet[offset]) << 8 | Int(packet[offset + 1])
            let length = Int(packet[offset + 8]) << 8 | Int(packet[offset + 9])
            offset += 10
            if type == 1 && length == 4 {
                result.append(packet[offset..<offset + 4].map(String.init).joined(separator: "."))
            }
            offset += length
        }
        return result.sorted()
    }
}

func freePort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    close(fd)
    return UInt16(bigEndian: address.sin_port)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

// MARK: - Setup

FileHandle.standardError.write("creating \(members) members × \(services) services (+1 EndpointSlice each)…\n".data(using: .utf8)!)
var sims: [KubeAPISimulator] = []
for member in 0..<members {
    let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .seconds(60), maxPageSize: 500))
    for index in 0..<services {
        _ = try sim.create(service("svc-\(index)", ip("96", member * 250 + index % 250)))
        _ = try sim.create(slice("svc-\(index)-1", "svc-\(index)", ip(String(member + 1), index)))
    }
    sims.append(sim)
}
// The service whose endpoints the latency loop changes, in member 0.
_ = try sims[0].create(headless("probe"))
_ = try sims[0].create(slice("probe-1", "probe", "10.200.0.1"))

let directory = NSTemporaryDirectory() + "mcdns-propagation-\(getpid())"
try FileManager.default.createDirectory(atPath: directory + "/state", withIntermediateDirectories: true)
var kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n"
for (index, sim) in sims.enumerated() { kubeconfig += "- { name: m\(index), cluster: { server: \"\(sim.baseURL)\" } }\n" }
kubeconfig += "contexts:\n"
for index in sims.indices { kubeconfig += "- { name: m\(index), context: { cluster: m\(index) } }\n" }
try kubeconfig.write(toFile: directory + "/members.kubeconfig", atomically: true, encoding: .utf8)
let port = freePort()
var config = """
    listen: { dns: ["127.0.0.1:\(port)"], admin: "127.0.0.1:0" }
    zonesDir: "\(zones)"
    stateDir: "\(directory)/state"
    clusters:

    """
for index in sims.indices {
    config += "  - { name: m\(index), region: r\(index % 3), zones: [z\(index)], source: { kubeconfig: \"\(directory)/members.kubeconfig\", context: m\(index) } }\n"
}
try config.write(toFile: directory + "/mcdns.yaml", atomically: true, encoding: .utf8)

// MARK: - First full sync

let process = Process()
process.executableURL = URL(fileURLWithPath: mcdns)
process.arguments = ["serve", "--config", directory + "/mcdns.yaml"]
process.standardError = FileHandle(forWritingAtPath: "/dev/null")
let started = ContinuousClock.now
try process.run()
defer { process.terminate() }
let resolver = Resolver(port: port)
let last = "svc-\(services - 1).bench.svc.clusterset.local"
while (resolver.a(last)?.count ?? 0) < members {
    if !process.isRunning { fatalError("mcdns exited; run it by hand with \(directory)/mcdns.yaml") }
    try await Task.sleep(for: .milliseconds(5))
}
let sync = ContinuousClock.now - started
// Every member's service list and slice list arrived: the last service answers with all members' ClusterIPs.
print("first full sync: \(members) members × \(services) services: \(sync) (from mcdns start)")

// MARK: - Propagation latency

let probe = "probe.bench.svc.clusterset.local"
var latencies: [Double] = []
for change in 0..<changes {
    let address = "10.200.\(1 + change / 250).\(change % 250 + 1)"
    let before = ContinuousClock.now
    _ = try sims[0].update(slice("probe-1", "probe", address))
    while resolver.a(probe) != [address] {}
    let elapsed = ContinuousClock.now - before
    latencies.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
}
latencies.sort()
print(String(format: "EndpointSlice change accepted → changed DNS answer over %d changes: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
             changes, percentile(latencies, 0.5), percentile(latencies, 0.99), latencies.last ?? 0))
process.terminate()
process.waitUntilExit()
for sim in sims { try await sim.stop() }
