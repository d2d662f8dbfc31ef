public import DNSWire

/// How a query reached us: the answer size limits depend on it.
public enum Transport: Sendable {
    case udp
    case tcp
}

/// Settings that shape every answer of a table.
public struct ServingOptions: Sendable, Equatable {
    /// The largest UDP response we send to an EDNS client (default 1232, the DNS flag day 2020 value).
    public var maxUDPPayload: Int

    public init(maxUDPPayload: Int = 1232) {
        self.maxUDPPayload = maxUDPPayload
    }
}

/// An immutable, wire-ready answer table: every answer is compiled to bytes when the table is built.
/// `respond` is the hot path: bytes in, bytes out, no allocation.
public final class AnswerTable: Sendable {
    /// The SOA serial of every zone in this table (the snapshot generation).
    public let serial: UInt32
    public let options: ServingOptions

    public init(serial: UInt32, options: ServingOptions = ServingOptions()) {
        self.serial = serial
        self.options = options
    }

    /// Answers one query. Writes the response into `output` and returns its length; 0 means "send nothing".
    /// `output` should hold at least 65535 bytes for TCP and `options.maxUDPPayload` for UDP.
    public func respond(
        to query: UnsafeRawBufferPointer,
        transport: Transport,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        0
    }
}
