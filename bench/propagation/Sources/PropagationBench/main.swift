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
/// `--tunnel`: one more member, read through `mcdns agent` and the reverse tunnel (via a TCP proxy this process can
/// cut), to compare its propagation with a direct member's and to time reconnect + resume after cuts.
let tunnel = CommandLine.arguments.contains("--tunnel")
let cuts = Int(option("cuts", "5"))!
/// Seconds between cuts. The agent resets its redial backoff after 30 s connected, the host's reflectors theirs
/// after 120 s without a failure (`ReflectorConfiguration.backoffResetAfter`); cuts closer together than that
/// measure a flapping link (the retry delays double each time), not independent cuts.
let settle = Int(option("settle", "125"))!

func service(_ name: String, _ ip: String) -> String {
    #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"bench","annotations":{"mcdns.io/export":"true"}},"spec":{"clusterIP":"\#(ip)","ports":[{"name":"http","port":80}]}}"#
}

func headless(_ name: String) -> String {
    #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"bench","annotations":{"mcdns.io/export":"true"}},"spec":{"clusterIP":"None","ports":[{"name":"http","port":80}]}}"#
}

func slice(_ name: String, _ service: String, _ address: String) -> String {
    #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"\#(name)","namespace":"bench","labels":{"kubernetes.io/service-name":"\#(service)"}},"addressType":"IPv4","endpoints":[{"addresses":["\#(address)"],"conditions":{"ready":true}}],"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}"#
}

func ip(_ a: String, _ index: Int) -> String { "10.\(a).\(index / 250).\(index % 250 + 1)" }

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

// The tunnel member: its own simulator with one probe service, an agent dialling the host through `proxy`.
var tunnelSim: KubeAPISimulator?
var tunnelSetup: TunnelSetup?
if tunnel {
    let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .seconds(1)))
    _ = try sim.create(headless("tprobe"))
    _ = try sim.create(slice("tprobe-1", "tprobe", "10.201.0.1"))
    tunnelSim = sim
    tunnelSetup = try TunnelSetup(directory: directory, memberServer: sim.baseURL)
}
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
if let tunnelSetup {
    config += "  - { name: t0, region: r0, zones: [t0], source: { tunnel: {} } }\n"
    config += tunnelSetup.hostConfig
}
try config.write(toFile: directory + "/mcdns.yaml", atomically: true, encoding: .utf8)

// MARK: - First full sync

let process = Process()
process.executableURL = URL(fileURLWithPath: mcdns)
process.arguments = ["serve", "--config", directory + "/mcdns.yaml"]
// The host's log stays beside its config, for a run that does not converge.
FileManager.default.createFile(atPath: directory + "/mcdns.log", contents: nil)
process.standardError = FileHandle(forWritingAtPath: directory + "/mcdns.log")
let started = ContinuousClock.now
try process.run()
defer { process.terminate() }
let resolver = Resolver(port: port)
let last = "svc-\(services - 1).bench.svc.clusterset.local"
while (resolver.a(last)?.count ?? 0) < members {
    if !process.isRunning { fatalError("mcdns exited; run it by hand with \(directory)/mcdns.yaml") }
    try await Task.sleep(for: .milliseconds(5))
}
var agent: Process?
if let tunnelSetup {
    agent = try tunnelSetup.startAgent(mcdns: mcdns)
    while resolver.a("tprobe.bench.svc.clusterset.local") != ["10.201.0.1"] {
        if !process.isRunning { fatalError("mcdns exited; run it by hand with \(directory)/mcdns.yaml") }
        try await Task.sleep(for: .milliseconds(5))
    }
}
let sync = ContinuousClock.now - started
// Every member's service list and slice list arrived: the last service answers with all members' ClusterIPs.
print("first full sync: \(members) members × \(services) services: \(sync) (from mcdns start)")

// MARK: - Propagation latency

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000
}

/// Changes `sim`'s probe slice and times until the DNS answer shows it.
@MainActor func timeChange(_ sim: KubeAPISimulator, probe: String, address: String) throws -> Double {
    let before = ContinuousClock.now
    _ = try sim.update(slice("\(probe)-1", probe, address))
    while resolver.a("\(probe).bench.svc.clusterset.local") != [address] {}
    return milliseconds(ContinuousClock.now - before)
}

func report(_ label: String, _ unsorted: [Double]) -> [Double] {
    let sorted = unsorted.sorted()
    print(String(format: "%@ over %d changes: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                 label, sorted.count, percentile(sorted, 0.5), percentile(sorted, 0.99), sorted.last ?? 0))
    return sorted
}

// Direct and tunnel changes alternate, so both see the same load on the machine.
var latencies: [Double] = []
var tunnelLatencies: [Double] = []
for change in 0..<changes {
    let address = "\(1 + change / 250).\(change % 250 + 1)"
    latencies.append(try timeChange(sims[0], probe: "probe", address: "10.200." + address))
    if let tunnelSim { tunnelLatencies.append(try timeChange(tunnelSim, probe: "tprobe", address: "10.201." + address)) }
}
let direct = report("EndpointSlice change accepted → changed DNS answer (direct member)", latencies)
if let tunnelSim, let tunnelSetup {
    let through = report("EndpointSlice change accepted → changed DNS answer (tunnel member)", tunnelLatencies)
    print(String(format: "added latency of the tunnel: p50 %.2f ms, p99 %.2f ms",
                 percentile(through, 0.5) - percentile(direct, 0.5), percentile(through, 0.99) - percentile(direct, 0.99)))

    // Cuts: the proxy closes every tunnel connection (as a reset link would); a change made at the cut reaches DNS
    // once the agent has redialled, the host's watches have resumed, and the event has propagated.
    var recoveries: [Double] = []
    let listsBefore = tunnelSim.listCount(.endpointSlices) + tunnelSim.listCount(.services)
    for cut in 0..<cuts {
        print("cut \(cut + 1) of \(cuts)…")
        let cutAt = ContinuousClock.now
        tunnelSetup.proxy.cut()
        let address = "10.202.0.\(cut + 1)"
        _ = try tunnelSim.update(slice("tprobe-1", "tprobe", address))
        while resolver.a("tprobe.bench.svc.clusterset.local") != [address] {
            try await Task.sleep(for: .milliseconds(2))
        }
        recoveries.append(milliseconds(ContinuousClock.now - cutAt))
        if cut + 1 < cuts { try await Task.sleep(for: .seconds(settle)) }
    }
    let relists = tunnelSim.listCount(.endpointSlices) + tunnelSim.listCount(.services) - listsBefore
    let sortedRecoveries = recoveries.sorted()
    print(String(format: "tunnel cut → reconnected, resumed, change answered over %d cuts \(settle) s apart: median %.0f ms, max %.0f ms; relists of services+endpointslices: %d; connections accepted by the proxy: %d",
                 cuts, percentile(sortedRecoveries, 0.5), sortedRecoveries.last ?? 0, relists, tunnelSetup.proxy.accepted))
    print("each cut (ms): " + recoveries.map { String(format: "%.0f", $0) }.joined(separator: " "))
    // SIGKILL, not SIGTERM: children of this process start with the signal mask of the thread Foundation spawned
    // them from, in which SIGTERM is blocked, so they would never see it.
    if let agent { kill(agent.processIdentifier, SIGKILL) }
    agent?.waitUntilExit()
}
kill(process.processIdentifier, SIGKILL)
process.waitUntilExit()
for sim in sims { try await sim.stop() }
