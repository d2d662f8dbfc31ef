internal import CLDNS

#if canImport(Glibc)
import Glibc
#endif

/// Sends one query to one server through ldns's resolver and returns the raw response: what `mcdns query` uses.
/// Not recursive, no retries beyond `attempts`, no automatic fallback to TCP (a truncated UDP answer is shown as
/// such, as dig does; ask again with `tcp: true`).
public struct StubResolver: Sendable {
    public var server: String
    public var port: UInt16
    public var tcp: Bool
    public var timeout: Duration
    public var attempts: Int

    public init(server: String, port: UInt16, tcp: Bool = false, timeout: Duration = .seconds(3), attempts: Int = 1) {
        self.server = server
        self.port = port
        self.tcp = tcp
        self.timeout = timeout
        self.attempts = attempts
    }

    public struct Exchange: Sendable {
        /// The response in wire form.
        public var response: [UInt8]
        /// From sending the query to reading the whole response.
        public var elapsed: Duration
    }

    /// Sends `query` (a message in wire form, e.g. from `Message.query`) and waits for the response.
    public func send(_ query: [UInt8]) throws(WireError) -> Exchange {
        let kind = server.contains(":") ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A
        guard let address = ldns_rdf_new_frm_str(kind, server) else {
            throw .ldns("\(server) is not an IPv4 or IPv6 address")
        }
        defer { ldns_rdf_deep_free(address) }
        guard let resolver = ldns_resolver_new() else { throw .ldns("cannot allocate a resolver") }
        defer { ldns_resolver_deep_free(resolver) }
        guard ldns_resolver_push_nameserver(resolver, address) == LDNS_STATUS_OK else {
            throw .ldns("cannot use \(server) as the server")
        }
        ldns_resolver_set_port(resolver, port)
        ldns_resolver_set_usevc(resolver, tcp ? 1 : 0)
        ldns_resolver_set_fallback(resolver, 0)
        ldns_resolver_set_recursive(resolver, 0)
        ldns_resolver_set_random(resolver, 0)
        ldns_resolver_set_retry(resolver, UInt8(clamping: max(1, attempts)))
        let (seconds, attoseconds) = timeout.components
        ldns_resolver_set_timeout(
            resolver,
            timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        )

        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = query.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            throw .ldns("cannot read the query: " + String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        var answer: UnsafeMutablePointer<ldns_pkt>? = nil
        let started = ContinuousClock.now
        let sent = ldns_resolver_send_pkt(&answer, resolver, packet)
        let elapsed = ContinuousClock.now - started
        guard sent == LDNS_STATUS_OK, let answer else {
            if let answer { ldns_pkt_free(answer) }
            throw .ldns(
                "no answer from \(server) port \(port) over \(tcp ? "TCP" : "UDP"): "
                    + String(cString: ldns_get_errorstr_by_id(sent))
            )
        }
        defer { ldns_pkt_free(answer) }
        var wire: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let rendered = ldns_pkt2wire(&wire, answer, &size)
        guard rendered == LDNS_STATUS_OK, let wire else {
            throw .ldns("cannot render the response: " + String(cString: ldns_get_errorstr_by_id(rendered)))
        }
        defer { free(wire) }
        return Exchange(response: Array(UnsafeBufferPointer(start: wire, count: size)), elapsed: elapsed)
    }
}
