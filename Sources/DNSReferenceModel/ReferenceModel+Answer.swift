public import DNSWire
public import MCDNSModel

/// A query as a test asks it: the same value is written to wire form for the table and read by the model.
public struct ReferenceQuery: Sendable, Equatable, CustomStringConvertible {
    public struct ClientSubnet: Sendable, Equatable {
        /// The address bytes as sent (source prefix rounded up to whole bytes).
        public var address: [UInt8]
        public var family: UInt16
        public var sourcePrefix: UInt8

        public init(address: [UInt8], sourcePrefix: UInt8) {
            self.family = address.count == 4 ? 1 : 2
            self.sourcePrefix = sourcePrefix
            self.address = Array(address.prefix((Int(sourcePrefix) + 7) / 8))
        }
    }

    public var id: UInt16 = 0x2B1D
    /// As asked (its case is echoed).
    public var name: DomainName
    public var type: RRType
    public var recursionDesired = false
    /// Nil: no OPT record.
    public var ednsSize: UInt16? = 1232
    public var dnssecOK = false
    /// The EDNS option naming the requesting cluster (option code, value).
    public var localOption: (code: UInt16, value: String)?
    public var clientSubnet: ClientSubnet?
    /// The source address of the query (4 or 16 bytes), matched against the requester subnets.
    public var source: [UInt8]?

    public init(name: DomainName, type: RRType) {
        self.name = name
        self.type = type
    }

    public static func == (lhs: ReferenceQuery, rhs: ReferenceQuery) -> Bool {
        lhs.id == rhs.id && lhs.name.wire == rhs.name.wire && lhs.type == rhs.type
            && lhs.recursionDesired == rhs.recursionDesired && lhs.ednsSize == rhs.ednsSize
            && lhs.dnssecOK == rhs.dnssecOK && lhs.localOption?.code == rhs.localOption?.code
            && lhs.localOption?.value == rhs.localOption?.value && lhs.clientSubnet == rhs.clientSubnet
            && lhs.source == rhs.source
    }

    public var description: String {
        var text = "\(name) \(type.rawValue)"
        if let localOption { text += " as \(localOption.value)" }
        if let clientSubnet { text += " ecs \(clientSubnet.address)/\(clientSubnet.sourcePrefix)" }
        if let source { text += " from \(source)" }
        return text
    }

    /// The EDNS options as sent: the local option, then ECS (RFC 7871 §6).
    var optionBytes: [UInt8] {
        var bytes: [UInt8] = []
        if let localOption {
            let value = Array(localOption.value.utf8)
            bytes += be16(localOption.code) + be16(UInt16(value.count)) + value
        }
        if let clientSubnet {
            bytes += be16(8) + be16(UInt16(4 + clientSubnet.address.count)) + be16(clientSubnet.family)
                + [clientSubnet.sourcePrefix, 0] + clientSubnet.address
        }
        return bytes
    }

    /// The query in wire form, written byte by byte (RFC 1035 §4.1, RFC 6891 §6.1.2).
    public var wire: [UInt8] {
        var bytes = be16(id) + [recursionDesired ? 0x01 : 0x00, 0x00] + be16(1) + be16(0) + be16(0)
            + be16(ednsSize == nil ? 0 : 1)
        bytes += name.wire + be16(type.rawValue) + be16(1)
        if let ednsSize {
            let options = optionBytes
            bytes += [0] + be16(41) + be16(ednsSize) + [0, 0, dnssecOK ? 0x80 : 0, 0] + be16(UInt16(options.count))
                + options
        }
        return bytes
    }
}

func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xFFFF)) }

/// The model's answer in record form.
public struct ReferenceAnswer: Sendable, Equatable {
    public var rcode: RCode
    public var authoritative: Bool
    public var answer: [ResourceRecord] = []
    public var authority: [ResourceRecord] = []
    public var additional: [ResourceRecord] = []
}

extension ReferenceModel {
    /// Who asks (DESIGN §4.3): the EDNS option naming a member, then ECS, then the source address against the
    /// configured subnets (the longest matching prefix). Returns the member and, for ECS, the scope to echo.
    public func requester(of query: ReferenceQuery) -> (cluster: ClusterID, ecsScope: UInt8?)? {
        if let option = query.localOption, option.code == naming.ednsLocalOption,
           let member = members.keys.first(where: { $0.rawValue.lowercased() == option.value.lowercased() }) {
            return (member, nil)
        }
        let subnets = naming.subnets.filter { members[$0.cluster] != nil }.sorted { $0.prefixLength > $1.prefixLength }
        if let ecs = query.clientSubnet {
            var address = ecs.address
            address += Array(repeating: 0, count: (ecs.family == 1 ? 4 : 16) - address.count)
            // A subnet counts only when the client said at least as much of its address as the subnet's prefix.
            if let subnet = subnets.first(where: { $0.prefixLength <= Int(ecs.sourcePrefix) && $0.contains(address) }) {
                return (subnet.cluster, UInt8(subnet.prefixLength))
            }
            return nil
        }
        if let source = query.source, let subnet = subnets.first(where: { $0.contains(source) }) {
            return (subnet.cluster, nil)
        }
        return nil
    }

    /// RFC 1034 §4.3.2 over the model's dictionaries, with in-zone CNAME chasing (at most 16 steps), RFC 2308
    /// negative answers (the SOA in authority, TTL from the SOA or the service's own negative TTL) and RFC 8482
    /// minimal ANY. REFUSED outside the served zones.
    public func answer(_ qname: DomainName, _ qtype: RRType, requester: ClusterID?) -> ReferenceAnswer {
        guard let zone = zone(of: qname) else { return ReferenceAnswer(rcode: .refused, authoritative: false) }
        var result = ReferenceAnswer(rcode: .noError, authoritative: true)
        var current = qname
        var visited: Set<DomainName> = [qname]
        for _ in 0..<16 {
            // A requester's own answer is for the name it asked, not for names a CNAME leads to.
            guard let node = node(current, in: zone, requester: current == qname ? requester : nil) else {
                result.rcode = .nxDomain
                result.authority = [soa(zone, ttl: min(zone.soa.ttl, minimum(zone)))]
                return result
            }
            let owned: (ResourceRecord) -> ResourceRecord = { record in
                var copy = record
                copy.owner = current
                return self.withSerial(copy, zone)
            }
            if qtype == .any {
                if let set = Self.minimalAny(node.rrsets) {
                    result.answer += set.map(owned)
                } else {
                    result.authority = [soa(zone, ttl: node.negativeTTL ?? min(zone.soa.ttl, minimum(zone)))]
                }
                return result
            }
            if let set = node.rrsets[qtype], !set.isEmpty {
                result.answer += set.map(owned)
                if [RRType.ns, .mx, .srv].contains(qtype) {
                    for record in set {
                        guard let target = record.targetName, target.isSubdomain(of: zone.origin),
                              let at = self.node(target, in: zone, requester: nil) else { continue }
                        for address in (at.rrsets[.a] ?? []) + (at.rrsets[.aaaa] ?? []) {
                            var copy = address
                            copy.owner = target
                            if !result.additional.contains(copy) { result.additional.append(copy) }
                        }
                    }
                }
                return result
            }
            if qtype != .cname, let cname = node.rrsets[.cname]?.first, let target = cname.targetName {
                result.answer.append(owned(cname))
                guard target.isSubdomain(of: zone.origin), visited.insert(target).inserted else { return result }
                current = target
                continue
            }
            result.authority = [soa(zone, ttl: node.negativeTTL ?? min(zone.soa.ttl, minimum(zone)))]
            return result
        }
        return result
    }

    /// RFC 8482 §4.2: one RRset, by a fixed preference.
    static func minimalAny(_ rrsets: [RRType: [ResourceRecord]]) -> [ResourceRecord]? {
        for type in [RRType.cname, .a, .aaaa, .mx, .txt, .srv, .ns, .soa, .ptr] {
            if let set = rrsets[type], !set.isEmpty { return set }
        }
        return rrsets.filter { !$0.value.isEmpty }.min { $0.key.rawValue < $1.key.rawValue }?.value
    }

    func minimum(_ zone: StaticZone) -> UInt32 {
        zone.soa.rdata.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    func soa(_ zone: StaticZone, ttl: UInt32) -> ResourceRecord {
        var record = withSerial(zone.soa, zone)
        record.ttl = ttl
        return record
    }

    /// A live zone's SOA carries the table's serial (the fourth-last 32-bit field... the first of the five).
    func withSerial(_ record: ResourceRecord, _ zone: StaticZone) -> ResourceRecord {
        guard record.type == .soa, zone.followsSerial, record.rdata.count >= 20 else { return record }
        var copy = record
        let at = copy.rdata.count - 20
        copy.rdata.replaceSubrange(at..<(at + 4), with: be32(serial))
        return copy
    }

    // MARK: - Wire form

    /// The whole response in wire form, compressing only owners equal to the question's name (RFC 1035 §4.1;
    /// plain on purpose: it shares nothing with the table's renderer). The OPT echoes the UDP size the server announces, DO as asked, and
    /// ECS with its scope (the subnet's prefix when the answer was picked by it, else 0); never the local option.
    public func respond(to query: ReferenceQuery) -> [UInt8] {
        let who = requester(of: query)
        var body: ReferenceAnswer
        var scope: UInt8 = 0
        if query.type == .opt {
            body = ReferenceAnswer(rcode: .formErr, authoritative: false)  // OPT is no question type.
        } else if query.type == .axfr || query.type == .ixfr {
            body = ReferenceAnswer(rcode: .refused, authoritative: false)
        } else {
            body = answer(query.name, query.type, requester: who?.cluster)
            if let who, let ecs = who.ecsScope, body != answer(query.name, query.type, requester: nil) { scope = ecs }
        }
        var bytes = be16(query.id)
        bytes.append(0x80 | (body.authoritative ? 0x04 : 0) | (query.recursionDesired ? 0x01 : 0))
        bytes.append(body.rcode.header)
        bytes += be16(1) + be16(UInt16(body.answer.count)) + be16(UInt16(body.authority.count))
            + be16(UInt16(body.additional.count + (query.ednsSize == nil ? 0 : 1)))
        bytes += query.name.wire + be16(query.type.rawValue) + be16(1)
        for record in body.answer + body.authority + body.additional {
            // The one pointer every server writes: an owner that is the question's name points at it (so the
            // answer carries the case asked); every other name is written in full.
            bytes += record.owner == query.name ? [0xC0, 0x0C] : record.owner.wire
            bytes += be16(record.type.rawValue) + be16(1) + be32(record.ttl) + be16(UInt16(record.rdata.count))
                + record.rdata
        }
        if query.ednsSize != nil {
            var options: [UInt8] = []
            if let ecs = query.clientSubnet {
                options = be16(8) + be16(UInt16(4 + ecs.address.count)) + be16(ecs.family) + [ecs.sourcePrefix, scope]
                    + ecs.address
            }
            bytes += [0] + be16(41) + be16(UInt16(naming.serverUDPPayload)) + [0, 0, query.dnssecOK ? 0x80 : 0, 0]
                + be16(UInt16(options.count)) + options
        }
        return bytes
    }
}
