public import DNSWire

/// The outcome of a lookup, closed like Knot's `KNOTD_IN_STATE_*`: the server switches over it exhaustively.
public enum Resolution: Sendable, Equatable {
    /// Data of the asked type (possibly after a CNAME chain).
    case answer
    /// The name exists, the type does not (or a chain ends in such a name): NOERROR, SOA in authority.
    case noData
    /// The name does not exist: NXDOMAIN, SOA in authority.
    case nxDomain
    /// The name lies at or below a zone cut: not authoritative, NS in authority, glue in additional.
    case referral
    /// Outside every served zone, or a class or transfer we do not serve.
    case refused
}

/// A fully resolved answer in record form: what the compiler renders to wire bytes once.
/// `owner`s equal to the query name are written as a pointer to the question (so the answer echoes its case).
public struct ResolvedAnswer: Sendable, Equatable {
    public var resolution: Resolution
    public var rcode: RCode
    public var authoritative: Bool
    public var answer: [ResourceRecord] = []
    public var authority: [ResourceRecord] = []
    /// Records the answer needs (glue for in-bailiwick name servers of a referral).
    public var additionalRequired: [ResourceRecord] = []
    /// Helpful records that are dropped first when the answer does not fit (addresses of NS, MX and SRV targets).
    public var additionalOptional: [ResourceRecord] = []

    public init(resolution: Resolution, rcode: RCode, authoritative: Bool) {
        self.resolution = resolution
        self.rcode = rcode
        self.authoritative = authoritative
    }
}
