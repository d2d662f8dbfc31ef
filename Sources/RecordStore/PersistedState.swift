public import MCDNSModel

/// What a warm restart needs: the merged records, the members as last seen, and the SOA serial. The one owner of
/// "what is persisted": the store makes it from what it serves (the live table's records and members, so a restart
/// starts from exactly what was answered), `StateFile` writes and reads it, `WarmStart` restores it.
public struct PersistedState: Sendable, Codable, Equatable {
    /// The serial of the table these records were compiled into.
    public var serial: UInt32
    /// The highest serial this process may publish before it writes a new state: a restart starts above it,
    /// so the SOA serial never goes back even when the last debounced write was lost to a `kill -9`.
    public var serialReserved: UInt32
    /// Wall-clock seconds since the epoch when this was written.
    public var savedAt: Double
    public var records: [ServiceDNSRecord]
    public var clusters: [ClusterInfo]

    public init(
        serial: UInt32,
        serialReserved: UInt32,
        savedAt: Double,
        records: [ServiceDNSRecord],
        clusters: [ClusterInfo]
    ) {
        self.serial = serial
        self.serialReserved = serialReserved
        self.savedAt = savedAt
        self.records = records
        self.clusters = clusters
    }
}
