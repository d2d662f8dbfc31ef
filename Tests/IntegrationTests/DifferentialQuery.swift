/// One query of the differential test: what dig is asked, and a short label that says which case it covers.
struct DifferentialQuery: Sendable, CustomStringConvertible {
    var name: String
    var type: String
    var options: [String]
    var qclass = "IN"

    var description: String {
        (["dig", name, type] + (qclass == "IN" ? [] : [qclass]) + options).joined(separator: " ")
    }

    var isTCP: Bool { options.contains("+tcp") }
}

/// Builds the query set: every name of interest in the test zones crossed with the types that matter for it,
/// under rotating transports and EDNS settings, with the query name's case scrambled in about half the queries.
/// Deterministic (a fixed seed), so a failure names a query that can be re-run by hand.
struct DifferentialQuerySet {
    /// The EDNS/transport variants rotated through; each name/type pair gets one of these (and the cases that are
    /// about size get all of them).
    static let variants: [[String]] = [
        [], ["+tcp"], ["+noedns"], ["+bufsize=512"], ["+bufsize=4096"], ["+tcp", "+noedns"], ["+bufsize=1232"],
    ]

    static let commonTypes = ["A", "AAAA", "TXT", "MX", "ANY", "CNAME"]

    /// Names relative to the zones, with the types asked for each (`commonTypes` unless listed).
    static let names: [(name: String, types: [String])] = [
        // Apex and plain data.
        ("diff.test", commonTypes + ["NS", "SOA", "CAA", "DS", "SRV"]),
        ("ns1.diff.test", commonTypes),
        ("mail.diff.test", commonTypes),
        ("www.diff.test", commonTypes + ["NS", "SOA", "PTR"]),
        ("multi.diff.test", commonTypes + ["HINFO", "SRV"]),
        ("ptr.diff.test", ["PTR", "A", "ANY"]),
        ("caa.diff.test", ["CAA", "TXT"]),
        ("unknown.diff.test", ["TYPE65400", "A", "ANY"]),
        ("_sip._tcp.diff.test", ["SRV", "A", "TXT"]),
        ("sip.diff.test", ["A", "AAAA"]),
        ("mixedcase.diff.test", ["A", "AAAA", "TXT"]),
        ("upper.host.diff.test", ["AAAA", "A"]),
        ("manymx.diff.test", ["MX", "A"]),
        // Missing names: NXDOMAIN (below the apex, below an existing name, a missing SRV label).
        ("missing.diff.test", commonTypes + ["SOA", "NS"]),
        ("nx.www.diff.test", ["A", "TXT"]),
        ("_sip._udp.diff.test", ["SRV"]),
        // Empty non-terminals: NODATA; a name below an ENT that does not exist: NXDOMAIN.
        ("ent.diff.test", ["A", "TXT", "ANY"]),
        ("c.deepent.diff.test", ["A", "MX"]),
        ("b.c.deepent.diff.test", ["A", "CNAME"]),
        ("x.ent.diff.test", ["A"]),
        ("a.b.c.deepent.diff.test", ["A", "AAAA"]),
        // Wildcards.
        ("foo.wild.diff.test", commonTypes),
        ("deep.foo.wild.diff.test", ["A", "TXT", "MX"]),
        ("exists.wild.diff.test", ["A", "TXT", "MX"]),
        ("wild.diff.test", ["A", "TXT"]),
        ("*.wild.diff.test", ["A", "TXT", "MX"]),
        ("ent2.wild.diff.test", ["A", "TXT"]),
        ("x.ent2.wild.diff.test", ["A", "TXT"]),
        ("a.ent2.wild.diff.test", ["A", "TXT"]),
        ("bar.wc.diff.test", ["A", "AAAA", "CNAME", "TXT", "ANY"]),
        ("bar.wcx.diff.test", ["A", "CNAME"]),
        // CNAME chains.
        ("alias1.diff.test", ["A", "AAAA", "CNAME", "TXT", "ANY"]),
        ("alias2.diff.test", ["A", "CNAME"]),
        ("chain3a.diff.test", ["A", "AAAA", "MX"]),
        ("out.diff.test", ["A", "CNAME"]),
        ("tonx.diff.test", ["A", "CNAME"]),
        ("tonodata.diff.test", ["TXT", "A", "CNAME"]),
        ("loopa.diff.test", ["A", "CNAME"]),
        ("selfloop.diff.test", ["A", "CNAME"]),
        ("toother.diff.test", ["A", "CNAME"]),
        ("towild.diff.test", ["A", "TXT"]),
        ("todeleg.diff.test", ["A", "CNAME"]),
        ("tomixed.diff.test", ["A"]),
        // Delegations: the cut itself (NS, DS, other types), glue names and names below it.
        ("sub.diff.test", ["NS", "DS", "A", "SOA", "ANY", "TXT"]),
        ("ns1.sub.diff.test", ["A", "AAAA"]),
        ("www.sub.diff.test", ["A", "MX", "DS"]),
        ("a.b.sub.diff.test", ["A"]),
        ("ext.diff.test", ["NS", "DS", "A"]),
        ("www.ext.diff.test", ["A"]),
        // The second zone.
        ("other.test", ["SOA", "NS", "A", "ANY"]),
        ("www.other.test", ["A", "AAAA"]),
        ("back.other.test", ["A", "CNAME"]),
        ("missing.other.test", ["A", "MX"]),
        // Outside every served zone: REFUSED.
        ("example.com", ["A", "SOA"]),
        ("test", ["SOA", "NS"]),
        (".", ["SOA", "NS"]),
        ("diff.test.example", ["A"]),
        ("xdiff.test", ["A"]),
    ]

    /// Queries whose point is the message size or EDNS handling: every variant of each.
    static let sizeCases: [(name: String, type: String)] = [
        ("big.diff.test", "TXT"), ("medium.diff.test", "TXT"), ("manymx.diff.test", "MX"),
        ("diff.test", "ANY"), ("big.diff.test", "ANY"),
    ]

    /// Everything else: EDNS version 1 (BADVERS), other classes.
    static let specialCases: [DifferentialQuery] = [
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+edns=1"]),
        DifferentialQuery(name: "missing.diff.test", type: "A", options: ["+edns=1"]),
        DifferentialQuery(name: "example.com", type: "A", options: ["+edns=1"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+tcp", "+edns=1"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+norecurse"]),
        DifferentialQuery(name: "missing.diff.test", type: "SOA", options: ["+norecurse", "+tcp"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+dnssec"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: [], qclass: "CH"),
        // Header bits: AD set in the query (not authenticated data here), CD (copied back), no RD.
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+adflag"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+cdflag"]),
        DifferentialQuery(name: "missing.diff.test", type: "A", options: ["+cdflag", "+tcp"]),
        // EDNS variants: a UDP size below 512, unknown EDNS flags and options, a client cookie, the DO bit on a
        // negative answer.
        DifferentialQuery(name: "medium.diff.test", type: "TXT", options: ["+bufsize=100"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+ednsflags=0x4000"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+ednsopt=65001:abcd"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+cookie"]),
        DifferentialQuery(name: "missing.diff.test", type: "A", options: ["+dnssec", "+tcp"]),
        // DNSSEC types on unsigned data, class ANY and NONE.
        DifferentialQuery(name: "diff.test", type: "DNSKEY", options: []),
        DifferentialQuery(name: "www.diff.test", type: "RRSIG", options: []),
        DifferentialQuery(name: "www.diff.test", type: "NSEC", options: []),
        DifferentialQuery(name: "www.diff.test", type: "A", options: [], qclass: "ANY"),
        DifferentialQuery(name: "www.diff.test", type: "A", options: [], qclass: "NONE"),
        // Odd names: an escaped dot inside a label, a 63-byte label, a long name inside the zone.
        DifferentialQuery(name: "a\\.b.diff.test", type: "A", options: []),
        DifferentialQuery(name: String(repeating: "x", count: 63) + ".diff.test", type: "A", options: []),
        DifferentialQuery(
            name: Array(repeating: String(repeating: "y", count: 60), count: 3).joined(separator: ".")
                + ".wild.diff.test",
            type: "TXT",
            options: ["+tcp"]
        ),
        DifferentialQuery(name: "x.y.sub.diff.test", type: "AAAA", options: ["+tcp"]),
        DifferentialQuery(name: "ns1.sub.diff.test", type: "NS", options: []),
        DifferentialQuery(name: "*.wild.diff.test", type: "ANY", options: []),
        DifferentialQuery(name: "bar.wc.diff.test", type: "MX", options: []),
        // Opcodes other than QUERY: IQUERY (obsolete), STATUS, NOTIFY, UPDATE, unassigned.
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+opcode=1"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+opcode=2"]),
        DifferentialQuery(name: "diff.test", type: "SOA", options: ["+opcode=4"]),
        DifferentialQuery(name: "diff.test", type: "SOA", options: ["+opcode=5"]),
        DifferentialQuery(name: "www.diff.test", type: "A", options: ["+opcode=15", "+tcp"]),
    ]

    static func all(seed: UInt64 = 0x6d63_646e_73) -> [DifferentialQuery] {
        var random = SplitMix64(seed: seed)
        var queries: [DifferentialQuery] = []
        var variantIndex = 0
        for (name, types) in names {
            for type in types {
                let options = variants[variantIndex % variants.count]
                variantIndex += 1
                let asked = random.next() % 2 == 0 ? scrambleCase(name, &random) : name
                queries.append(DifferentialQuery(name: asked, type: type, options: options))
            }
        }
        for (name, type) in sizeCases {
            for options in variants {
                queries.append(DifferentialQuery(name: scrambleCase(name, &random), type: type, options: options))
            }
        }
        return queries + specialCases
    }

    static func scrambleCase(_ name: String, _ random: inout SplitMix64) -> String {
        String(name.map { random.next() % 2 == 0 ? Character($0.uppercased()) : $0 })
    }
}

/// A tiny seeded generator (SplitMix64) so the query set is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
