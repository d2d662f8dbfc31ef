public import DNSWire

/// The differences between a zone's consecutive serials, as IXFR (RFC 1995) sends them: per zone, a bounded run of
/// steps, each the records removed and added between two serials. Taken from the zones' RRsets (what `LiveTable`
/// placed), never from compiled shard bytes. A value: the store keeps it beside its table and hands transfers a
/// copy.
public struct TransferJournal: Sendable {
    /// One step: the zone at serial `from` became the zone at serial `to` by removing and adding these records.
    public struct Step: Sendable, Equatable {
        public var from: UInt32
        public var to: UInt32
        public var removed: [ResourceRecord]
        public var added: [ResourceRecord]
    }

    /// Steps kept per zone (0: none, IXFR is answered in full).
    public var limit: Int
    /// A step with more records than this (a first sync, a member coming back) is not kept: the zone's journal
    /// starts again after it, since a full transfer serves a change that large as well and the step would hold a
    /// copy of most of the zone for `limit` compiles.
    public static let maxRecordsPerStep = 20_000
    private var steps: [DomainName: [Step]] = [:]

    public init(limit: Int = 0) {
        self.limit = limit
    }

    /// The records of one compile: `previous` → `serial` for every zone of `origins` (those that follow the table
    /// serial), with the differences `changes` holds (none for a zone it leaves out). A zone whose last step does
    /// not end at `previous` starts again from this step.
    public mutating func record(
        previous: UInt32,
        serial: UInt32,
        origins: [DomainName],
        changes: [DomainName: (removed: [ResourceRecord], added: [ResourceRecord])]
    ) {
        guard limit > 0 else { return }
        for origin in origins {
            var list = steps[origin] ?? []
            if let last = list.last, last.to != previous { list = [] }
            let change = changes[origin]
            let size = (change?.removed.count ?? 0) + (change?.added.count ?? 0)
            guard size <= Self.maxRecordsPerStep else {
                steps[origin] = []
                continue
            }
            list.append(Step(from: previous, to: serial, removed: change?.removed ?? [], added: change?.added ?? []))
            if list.count > limit { list.removeFirst(list.count - limit) }
            steps[origin] = list
        }
    }

    /// Forgets every step (a rebuild, whose differences are not known).
    public mutating func clear() { steps = [:] }

    /// The steps that take `zone` from `serial` to `current`, in order; nil when the journal does not reach back
    /// to `serial` (the client gets the whole zone).
    public func steps(of zone: DomainName, from serial: UInt32, to current: UInt32) -> [Step]? {
        guard let list = steps[zone], let start = list.firstIndex(where: { $0.from == serial }),
            list.last?.to == current
        else { return nil }
        return Array(list[start...])
    }

    /// Steps held for `zone` (tests, metrics).
    public func count(of zone: DomainName) -> Int { steps[zone]?.count ?? 0 }
}
