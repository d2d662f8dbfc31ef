import DNSAnswer
import DNSReferenceModel
import DNSWire
import MCDNSModel

/// A small deterministic generator so a failing seed can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The naming settings a step may change on reload, in the form both the table and the model are built from.
struct NamingParams: Sendable, Equatable, CustomStringConvertible {
    var federationName = "acme"
    var recordTTL: UInt32 = 30
    var degradedTTL: UInt32 = 5
    var negativeTTL: UInt32 = 7
    var policy: [ReferenceNaming.Level] = [.cluster, .zone, .region, .global]
    /// Requester subnets: (IPv4 /16 network's second byte, cluster).
    var subnets: [(UInt8, ClusterID)] = []

    static func == (lhs: NamingParams, rhs: NamingParams) -> Bool { lhs.description == rhs.description }

    var description: String {
        "fed \(federationName) ttl \(recordTTL)/\(degradedTTL)/\(negativeTTL) policy \(policy.map(\.rawValue)) "
            + "subnets \(subnets.map { "10.\($0.0).0.0/16=\($0.1)" })"
    }

    static let federationDomain = try! DomainName("example.com")
    static let clustersetDomain = try! DomainName("clusterset.local")

    var table: NamingConfiguration {
        NamingConfiguration(
            federationName: federationName, federationDomain: Self.federationDomain,
            clustersetDomain: Self.clustersetDomain, recordTTL: recordTTL, degradedTTL: degradedTTL,
            negativeTTL: negativeTTL, localityPolicy: policy.map { LocalityLevel(rawValue: $0.rawValue)! },
            ednsLocalOption: 65518,
            requesterSubnets: subnets.map { RequesterSubnet(network: IPNetwork("10.\($0.0).0.0/16")!, cluster: $0.1) })
    }

    var model: ReferenceNaming {
        ReferenceNaming(
            federationName: federationName, federationDomain: Self.federationDomain,
            clustersetDomain: Self.clustersetDomain, recordTTL: recordTTL, degradedTTL: degradedTTL,
            negativeTTL: negativeTTL, policy: policy, ednsLocalOption: 65518,
            subnets: subnets.map { ReferenceNaming.Subnet(network: [10, $0.0, 0, 0], prefixLength: 16, cluster: $0.1) })
    }
}

/// The static zones of every run: the federation and clusterset domains (live) and one static-only zone. A static
/// CNAME points at a live name (re-rendered on every change), one name has many types.
enum ModelZones {
    static let example = """
        $ORIGIN example.com.
        $TTL 300
        @       IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 60
                IN NS ns1
                IN NS ns2.elsewhere.net.
                IN MX 10 mail
        ns1     IN A 192.0.2.1
        mail    IN A 192.0.2.25
        www     IN A 192.0.2.80
                IN AAAA 2001:db8::80
        alias   IN CNAME www
        to-live IN CNAME s0.ns0.acme.svc.example.com.
        to-region IN CNAME s1.ns1.acme.svc.r0.example.com.
        many    IN A 192.0.2.7
                IN AAAA 2001:db8::7
                IN TXT "many"
                IN MX 5 mail
                IN SRV 0 1 80 www
                IN HINFO "cpu" "os"
                IN CAA 0 issue "ca.test"
                IN SPF "v=spf1 -all"
                IN PTR www
        _sip._udp IN SRV 0 5 5060 www

        """

    static let clusterset = """
        $ORIGIN clusterset.local.
        @ 30 IN SOA ns.clusterset.local. hostmaster 1 7200 3600 1209600 5
        @ 30 IN NS ns
        ns 30 IN A 192.0.2.2
        dns-version 30 IN TXT "1.0.0"

        """

    static let other = """
        $ORIGIN static.test.
        @ 600 IN SOA ns hostmaster 7 7200 3600 1209600 120
        @ 600 IN NS ns
        ns 600 IN A 192.0.2.3
        host 600 IN A 192.0.2.4

        """

    static let zones: [Zone] = {
        [(example, "example.com"), (clusterset, "clusterset.local"), (other, "static.test")].map { text, origin in
            let (zone, errors) = ZoneFile.parse(text, origin: try! DomainName(origin))
            precondition(errors.isEmpty, "\(errors)")
            return zone!
        }
    }()
}

/// The size of a run: members, services, topology and which kinds of service it makes.
struct Shape: CustomStringConvertible {
    var members: Int
    var services: Int
    var regions: Int
    var zonesPerRegion: Int
    var namespaces: Int
    /// Labels long enough that many names come near (or over) 255 bytes.
    var longNames: Bool
    var steps: Int

    var description: String {
        "\(members) members, \(services) services, \(regions) regions × \(zonesPerRegion) zones, "
            + "\(namespaces) namespaces\(longNames ? ", long names" : ""), \(steps) steps"
    }

    static func random(_ rng: inout SplitMix64) -> Shape {
        func skewed(_ upper: Int) -> Int {
            switch Int.random(in: 0..<20, using: &rng) {
            case 0..<12: return Int.random(in: 1...max(1, min(upper, 40)), using: &rng)
            case 12..<17: return Int.random(in: 1...max(1, min(upper, 400)), using: &rng)
            default: return Int.random(in: 1...upper, using: &rng)
            }
        }
        let members = Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 10...30, using: &rng)
            : Int.random(in: 1...6, using: &rng)
        let services = min(skewed(5_000), ModelBasedTests.maxServices)
        let regions = Int.random(in: 1...max(1, min(members, 5)), using: &rng)
        return Shape(members: members, services: services, regions: regions,
                     zonesPerRegion: Int.random(in: 1...4, using: &rng),
                     namespaces: Int.random(in: 1...max(1, min(services, 50)), using: &rng),
                     longNames: Int.random(in: 0..<6, using: &rng) == 0,
                     steps: services > 1_500 ? Int.random(in: 4...10, using: &rng) : Int.random(in: 8...30, using: &rng))
    }
}

/// One step of a sequence, as concrete values: a sequence with steps dropped still runs (for shrinking).
enum Step: CustomStringConvertible {
    /// A batch from the controller, as `ServiceRecordSink.apply` gets it.
    case apply(RecordChanges, String)
    /// A reload with new naming and TTLs (`RecordStore.reconfigure`).
    case reload(NamingParams)
    /// The daemon stops and starts again from its saved state.
    case warmStart
    /// The warm start's grace period ends.
    case endWarmStart

    var description: String {
        switch self {
        case .apply(let changes, let what):
            var text = "apply \(what): +\(changes.upserted.count) -\(changes.removed.count)"
            if changes.upserted.count + changes.removed.count <= 6 {
                text += " \(changes.upserted.map { "\($0.key)" }) \(changes.removed.map { "\($0)" })"
            }
            if let clusters = changes.clusters {
                text += " members \(clusters.map { "\($0.id)@\($0.locality)=\($0.link.rawValue)\($0.drain == nil ? "" : "+drained")" })"
            }
            return text
        case .reload(let params): return "reload \(params)"
        case .warmStart: return "warm start from the saved state"
        case .endWarmStart: return "end of the warm start"
        }
    }
}

/// Makes a random sequence of member events for a shape. It keeps its own view of the records and members (what
/// the controller would publish), so each step is a plausible next event.
struct SequenceGenerator {
    var rng: SplitMix64
    let shape: Shape
    var members: [ClusterInfo] = []
    var records: [ServiceKey: ServiceDNSRecord] = [:]
    var nextService = 0
    var naming = NamingParams()
    var localities: [Locality] = []

    init(seed: UInt64) {
        rng = SplitMix64(state: seed)
        shape = Shape.random(&rng)
        let pad = shape.longNames ? String(repeating: "q", count: 34) : ""
        for r in 0..<shape.regions {
            for z in 0..<shape.zonesPerRegion {
                localities.append(Locality(region: "r\(r)\(pad)", zone: "r\(r)-z\(z)\(pad)"))
            }
        }
        for m in 0..<shape.members {
            // About one member in four starts drained, so the first batch (every service, each exported by a
            // random subset of members) already has services answered without their drained members and services
            // whose every member is drained (the all-drained fallback). Taken from the seed's bits rather than the
            // generator, so the rest of a seed's sequence stays what it was.
            let drained = (seed >> UInt64((m * 5) % 61)) & 3 == 0
            members.append(ClusterInfo(id: ClusterID("c\(m)"), locality: localities.randomElement(using: &rng)!,
                                       link: .synced, drain: drained ? ClusterDrain(origin: .configuration) : nil))
        }
        naming.subnets = members.prefix(Int.random(in: 0...min(3, members.count), using: &rng)).enumerated()
            .map { (UInt8(100 + $0.offset), $0.element.id) }
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ oneIn: Int) -> Bool { Int.random(in: 0..<oneIn, using: &rng) == 0 }

    /// The whole sequence: the first batch brings every member and service, then random events.
    mutating func steps() -> [Step] {
        var steps: [Step] = [.apply(RecordChanges(upserted: (0..<shape.services).map { _ in newRecord() },
                                                  clusters: members), "initial sync")]
        for record in steps.first.map({ if case .apply(let c, _) = $0 { return c.upserted } else { return [] } })! {
            records[record.key] = record
        }
        for _ in 0..<shape.steps { steps.append(contentsOf: nextSteps()) }
        return steps
    }

    func key(_ index: Int) -> ServiceKey {
        let ns = index % shape.namespaces
        if shape.longNames {
            let nsLabel = "ns\(ns)-" + String(repeating: "n", count: 40 + index % 20)
            let nameLabel = "s\(index)-" + String(repeating: "s", count: 20 + (index * 7) % 40)
            return ServiceKey(namespace: nsLabel, name: nameLabel)
        }
        return ServiceKey(namespace: "ns\(ns)", name: "s\(index)")
    }

    mutating func newRecord() -> ServiceDNSRecord {
        let index = nextService
        nextService += 1
        return makeRecord(index)
    }

    /// A service of a random kind exported by a random subset of the members.
    mutating func makeRecord(_ index: Int) -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: key(index))
        let kind = int(0...9)
        // 0-3 ClusterIP, 4-5 headless, 6 LoadBalancer IP, 7 LoadBalancer hostname, 8 ExternalName, 9 dual stack.
        record.status.headless = kind == 4 || kind == 5
        if chance(6) { record.spec.recordTTL = UInt32(int(1...600)) }
        if chance(10) { record.spec.dnsPrefix = "v\(index)" }
        if chance(12) { record.spec.externalName = "x\(index)" }
        if chance(8) { record.spec.allowServiceWithoutEndpoints = true }
        // `answers: 1` or `2` (README "Traffic policies") on two services in seven, taken from the index rather than
        // the random stream, so every other choice of a seed's sequence stays as it was.
        switch index % 7 {
        case 2: record.spec.trafficPolicy = TrafficPolicy(.nearest, answers: 1)
        case 5: record.spec.trafficPolicy = TrafficPolicy(.nearest, answers: 2)
        default: break
        }
        if kind == 8 {
            record.status.externalTarget = chance(3) && index > 0
                ? "s\(index / 2).ns\(index / 2 % shape.namespaces).\(naming.federationName).svc.example.com"
                : "db\(index).external.test"
        }
        let portCount = int(0...3)
        let names = ["http", "grpc", "metrics"]
        for p in 0..<portCount {
            record.status.ports.append(ServicePort(name: chance(3) ? nil : names[p], protocol: chance(4) ? "UDP" : "TCP",
                                                   port: 80 + p * 1000 + index % 7))
        }
        // Members exporting one port name and protocol on different numbers: the merger serves their union.
        if let named = record.status.ports.first(where: { $0.name != nil }), chance(5) {
            record.status.ports.append(ServicePort(name: named.name, protocol: named.protocol, port: named.port + 1))
        }
        record.status.ports.sort()
        let exporting = members.filter { _ in chance(2) }
        for member in (exporting.isEmpty ? [members.randomElement(using: &rng)!] : exporting) {
            record.status.dns.append(clusterDNS(index, member, kind: kind))
        }
        return record
    }

    mutating func clusterDNS(_ index: Int, _ member: ClusterInfo, kind: Int) -> ClusterDNS {
        let c = Int(member.id.rawValue.dropFirst())!
        let hex = String(index, radix: 16)
        var dns = ClusterDNS(cluster: member.id, region: member.locality.region, zones: [member.locality.zone])
        if kind == 8 { return dns }
        let dual = kind == 9 || chance(8)
        if !(kind == 4 || kind == 5) {
            dns.clusterIPs = [IPAddress("10.96.\(c).\(index % 250)")!] + (dual ? [IPAddress("fd96::\(c):\(hex)")!] : [])
        }
        if kind == 6 { dns.loadBalancer = [LoadBalancerIngress(ip: IPAddress("203.0.\(c).\(index % 250)")!)] }
        if kind == 7 { dns.loadBalancer = [LoadBalancerIngress(hostname: "lb\(index)-\(c).elb.test")] }
        let headless = kind == 4 || kind == 5
        let longHost = shape.longNames && chance(3)
        for e in 0..<int(0...4) {
            let v6 = dual && chance(2)
            let address = v6 ? "fd00:\(c)::\(hex):\(e)" : "10.\(c).\(index / 250 % 250).\(index % 250 + e)"
            let hostname = headless && chance(2) ? (longHost ? "pod\(e)-" + String(repeating: "h", count: 55) : "pod\(e)") : nil
            dns.endpoints.append(Endpoint(address: IPAddress(address)!, hostname: hostname, ready: !chance(4)))
        }
        dns.readyEndpoints = dns.endpoints.filter(\.ready).count
        return dns
    }

    mutating func randomKeys(_ count: Int) -> [ServiceKey] {
        guard !records.isEmpty else { return [] }
        // Sorted: a dictionary's order changes from one process to the next, and a seed must replay.
        let keys = records.keys.sorted()
        return Set((0..<count).map { _ in keys.randomElement(using: &rng)! }).sorted()
    }

    var sortedRecords: [ServiceDNSRecord] { records.keys.sorted().map { records[$0]! } }

    mutating func commit(_ changes: RecordChanges) {
        for key in changes.removed { records[key] = nil }
        for record in changes.upserted { records[record.key] = record }
        if let clusters = changes.clusters { members = clusters }
    }

    /// The next event (a warm start comes with the resync after it).
    mutating func nextSteps() -> [Step] {
        var changes = RecordChanges()
        let what: String
        switch int(0...19) {
        case 0, 1, 2:
            what = "services added"
            changes.upserted = (0..<int(1...20)).map { _ in newRecord() }
        case 3, 4:
            what = "services changed"
            for key in randomKeys(int(1...10)) {
                let index = Int(key.name.dropFirst().prefix { $0.isNumber })!
                changes.upserted.append(makeRecord(index))
            }
        case 5, 6:
            what = "services deleted"
            changes.removed = randomKeys(int(1...10))
        case 7, 8:
            what = "endpoints flipped"
            for key in randomKeys(int(1...10)) {
                var record = records[key]!
                guard !record.status.dns.isEmpty else { continue }
                let i = int(0...(record.status.dns.count - 1))
                for e in record.status.dns[i].endpoints.indices where chance(2) {
                    record.status.dns[i].endpoints[e].ready.toggle()
                }
                record.status.dns[i].readyEndpoints = record.status.dns[i].endpoints.filter(\.ready).count
                if chance(5) { record.status.dns[i].stale.toggle() }
                changes.upserted.append(record)
            }
        case 9, 10:
            what = "member links"
            var list = members
            for _ in 0..<int(1...3) {
                let i = int(0...(list.count - 1))
                list[i].link = [LinkState.synced, .stale, .offline].randomElement(using: &rng)!
                // Draining (README "Draining"), up to every member at once: the all-drained fallback too.
                if chance(3) { list[i].drain = list[i].drain == nil ? ClusterDrain(origin: .admin) : nil }
            }
            changes.clusters = list
        case 11:
            what = "topology"
            var list = members
            let i = int(0...(list.count - 1))
            list[i].locality = localities.randomElement(using: &rng)!
            changes.clusters = list
            // The controller republishes the member's services with its new place.
            for record in sortedRecords where record.status.dns.contains(where: { $0.cluster == list[i].id }) {
                var moved = record
                for d in moved.status.dns.indices where moved.status.dns[d].cluster == list[i].id {
                    moved.status.dns[d].region = list[i].locality.region
                    moved.status.dns[d].zones = [list[i].locality.zone]
                }
                changes.upserted.append(moved)
            }
        case 12:
            what = "member added or removed"
            var list = members
            if list.count > 1 && chance(2) {
                let gone = list.remove(at: int(0...(list.count - 1)))
                for record in sortedRecords where record.status.dns.contains(where: { $0.cluster == gone.id }) {
                    var left = record
                    left.status.dns.removeAll { $0.cluster == gone.id }
                    if left.status.dns.isEmpty { changes.removed.append(record.key) } else { changes.upserted.append(left) }
                }
            } else {
                let used = Set(list.map(\.id))
                let id = (0..<31).map { ClusterID("c\($0)") }.first { !used.contains($0) }!
                list.append(ClusterInfo(id: id, locality: localities.randomElement(using: &rng)!, link: .synced))
            }
            changes.clusters = list
        case 13:
            var params = naming
            params.federationName = chance(2) ? "acme" : "corp"
            params.recordTTL = UInt32(int(1...300))
            params.degradedTTL = UInt32(int(1...30))
            params.negativeTTL = UInt32(int(1...60))
            var levels = ReferenceNaming.Level.allCases.shuffled(using: &rng)
            if chance(3) { levels.removeLast(int(1...2)) }
            params.policy = levels
            naming = params
            return [.reload(params)]
        case 14:
            // Restart from the saved state; the members then resync (each republishes what it has now), and
            // sometimes thousands of services come or go in that first batch.
            var resync = RecordChanges(upserted: sortedRecords, clusters: members)
            if chance(2) {
                let count = int(100...min(3_000, 100 + shape.services))
                resync.upserted += (0..<count).map { _ in newRecord() }
            } else if chance(2) {
                let gone = Set(randomKeys(records.count / 2))
                resync.upserted.removeAll { gone.contains($0.key) }
            }
            records = [:]
            commit(resync)
            return [.warmStart, .apply(resync, "resync after the warm start")]
        case 15:
            return [.endWarmStart]
        case 16:
            what = "mass change"
            if chance(2) || records.count < 100 {
                changes.upserted = (0..<int(500...3_000)).map { _ in newRecord() }
            } else {
                changes.removed = randomKeys(records.count * 3 / 4)
            }
        default:
            what = "mixed"
            changes.upserted = (0..<int(0...5)).map { _ in newRecord() }
            changes.removed = randomKeys(int(0...5))
            changes.upserted.removeAll { record in changes.removed.contains(record.key) }
        }
        commit(changes)
        return [.apply(changes, what)]
    }
}
