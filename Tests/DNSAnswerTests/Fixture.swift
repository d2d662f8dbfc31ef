import DNSAnswer
import DNSWire

/// A small zone set that exercises every rule of DESIGN §4.4.
enum Fixture {
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
        Mixed   IN A 192.0.2.81
        alias   IN CNAME www
        chain   IN CNAME alias
        out     IN CNAME www.elsewhere.net.
        dangle  IN CNAME nothing
        loop1   IN CNAME loop2
        loop2   IN CNAME loop1
        a.b.c   IN A 192.0.2.3
        *.wild  IN A 192.0.2.99
        *.wild  IN TXT "wild"
        x.wild  IN A 192.0.2.100
        *.wc    IN CNAME www
        sub     IN NS ns1.sub
                IN NS ns.elsewhere.net.
        ns1.sub IN A 192.0.2.53
        big     IN TXT "\(String(repeating: "a", count: 200))"
                IN TXT "\(String(repeating: "b", count: 200))"
                IN TXT "\(String(repeating: "c", count: 200))"
        _http._tcp IN SRV 0 5 80 www

        """

    static let clusterset = """
        $ORIGIN clusterset.local.
        @ 30 IN SOA ns.clusterset.local. hostmaster 1 7200 3600 1209600 5
        @ 30 IN NS ns
        ns 30 IN A 192.0.2.2
        dns-version 30 IN TXT "1.0.0"

        """

    static func table(serial: UInt32 = 1, options: ServingOptions = ServingOptions()) throws -> AnswerTable {
        let (a, errorsA) = ZoneFile.parse(example, origin: try DomainName("example.com"))
        let (b, errorsB) = ZoneFile.parse(clusterset, origin: try DomainName("clusterset.local"))
        guard let a, let b else { throw FixtureError.badZone(errorsA + errorsB) }
        return try AnswerTable.compile(zones: [a, b], serial: serial, options: options)
    }

    enum FixtureError: Error { case badZone([SourceError]) }
}

extension AnswerTable {
    /// Sends raw bytes through the query path and returns the raw response.
    func respond(raw: [UInt8], transport: Transport = .udp) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 65535)
        let length = raw.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { respond(to: input, transport: transport, into: $0) }
        }
        return Array(output[..<length])
    }

    /// Builds a query through ldns, answers it and reads the response through ldns.
    func ask(_ name: String, _ type: RRType, transport: Transport = .udp,
             edns: (udpSize: Int, version: Int, dnssecOK: Bool, options: [UInt8])? = nil) throws -> Message {
        let query = try Message.query(name: try DomainName(name), type: type, id: 0xBEEF, edns: edns)
        return try Message(wire: respond(raw: query, transport: transport))
    }
}
