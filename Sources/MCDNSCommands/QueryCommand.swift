import ArgumentParser
import DNSAnswer
import DNSWire
import Foundation

/// `mcdns query`: one real DNS query through ldns's resolver, printed like dig.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Send one DNS query (like dig), optionally as if from a member cluster or a client subnet.",
        usage: "mcdns query <name> [<type>] [--server <host:port>] [--tcp] [<options>]",
        discussion: """
            Sends the query with EDNS0 (UDP size 1232) to --server and prints the response with its timing. \
            --as-cluster adds the EDNS0 option naming the requesting cluster (code --local-option, default 65518 \
            = 0xffee, as locality.requesters.ednsLocalOption); --subnet adds EDNS Client Subnet (RFC 7871). A \
            truncated UDP answer (tc flag) is shown as it came: ask again with --tcp.

            Exit codes: 0 a response arrived (whatever its rcode; see status:), 64 bad arguments, 3 no response.

            Examples:
              mcdns query web.shop.acme.svc.example.com
              mcdns query web.shop.acme.svc.example.com AAAA --tcp
              mcdns query web.shop.acme.svc.example.com --as-cluster east-2
              mcdns query web.shop.svc.clusterset.local --subnet 10.1.0.0/16
              mcdns query web.shop.acme.svc.example.com --server 127.0.0.1:5300
            """
    )

    @Argument(help: "The name to ask for.")
    var name: String

    @Argument(help: "The record type.")
    var type: String = "A"

    @Option(name: .long, help: "The DNS server, HOST:PORT or [IPv6]:PORT (port 53 when omitted).")
    var server: String = "127.0.0.1:5300"

    @Flag(name: .long, help: "Use TCP instead of UDP.")
    var tcp = false

    @Option(name: .long, help: "Ask as a requester in this member cluster, named by the EDNS0 option.")
    var asCluster: String?

    @Option(name: .long, help: "Ask with this EDNS Client Subnet, such as 10.1.0.0/16.")
    var subnet: String?

    @Option(name: .long, help: "The EDNS0 option code that names the requesting cluster.")
    var localOption: UInt16 = 65518

    @Option(name: .long, help: "Seconds to wait for the response.")
    var timeout: Int = 3

    func validate() throws {
        if asCluster != nil && subnet != nil {
            throw ValidationError(
                "use --as-cluster or --subnet, not both: the server would take the cluster option first"
            )
        }
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout: 1 to 3600 seconds") }
    }

    func run() async throws {
        do throws(CommandFailure) {
            try ask()
        } catch {
            throw error.report()
        }
    }

    private func ask() throws(CommandFailure) {
        let (host, port) = try Self.parseServer(server)
        let domain: DomainName
        do {
            domain = try DomainName(name)
        } catch {
            throw .usage("\(name) is not a DNS name: \(error)")
        }
        guard let rrtype = RRType(mnemonic: type) else {
            throw .usage("\(type) is not a record type (A, AAAA, SRV, TXT, CNAME, SOA, TYPE65280…)")
        }
        var options: [UInt8] = []
        if let asCluster {
            let value = Array(asCluster.utf8)
            guard !value.isEmpty, value.count <= 255 else {
                throw .usage("--as-cluster: a cluster name, 1 to 255 bytes")
            }
            options += Self.option(localOption, value)
        }
        if let subnet {
            guard let network = IPNetwork(subnet) else {
                throw .usage("--subnet \(subnet): expected a CIDR such as 10.1.0.0/16 or fd00::/48")
            }
            options += Self.option(8, Self.clientSubnet(network))
        }
        let id = UInt16.random(in: 1...UInt16.max)
        let query: [UInt8]
        do {
            query = try Message.query(
                name: domain,
                type: rrtype,
                id: id,
                edns: (udpSize: 1232, version: 0, dnssecOK: false, options: options)
            )
        } catch {
            throw .usage("cannot build the query: \(error)")
        }
        let resolver = StubResolver(server: host, port: port, tcp: tcp, timeout: .seconds(timeout))
        let exchange: StubResolver.Exchange
        do {
            exchange = try resolver.send(query)
        } catch {
            throw .unreachable("\(error) — is a DNS server (mcdns serve) listening there? use --server HOST:PORT")
        }
        let message: Message
        do {
            message = try Message(wire: exchange.response)
        } catch {
            throw .failed("the response from \(server) cannot be read: \(error)")
        }
        Output.line(
            Self.render(
                message,
                name: name,
                type: rrtype,
                server: host,
                port: port,
                tcp: tcp,
                extras: (asCluster.map { "cluster \($0)" } ?? subnet.map { "subnet \($0)" }),
                elapsed: exchange.elapsed,
                size: exchange.response.count
            )
        )
    }

    static func option(_ code: UInt16, _ value: [UInt8]) -> [UInt8] {
        [UInt8(code >> 8), UInt8(code & 0xFF), UInt8(value.count >> 8), UInt8(value.count & 0xFF)] + value
    }

    /// RFC 7871 §6: family, source prefix length, scope 0, the address cut to the prefix's whole bytes.
    static func clientSubnet(_ network: IPNetwork) -> [UInt8] {
        let bytes = network.address
        let family: UInt16 = bytes.count == 4 ? 1 : 2
        let kept = (network.prefixLength + 7) / 8
        return [UInt8(family >> 8), UInt8(family & 0xFF), UInt8(network.prefixLength), 0] + bytes.prefix(kept)
    }

    static func parseServer(_ text: String) throws(CommandFailure) -> (String, UInt16) {
        var host = text
        var port: UInt16 = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .usage("--server \(text): missing ]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = UInt16(rest.dropFirst()), value > 0 else {
                    throw .usage("--server \(text): bad port")
                }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let value = UInt16(text[text.index(after: colon)...]), value > 0 else {
                throw .usage("--server \(text): bad port (expected HOST:PORT, e.g. 127.0.0.1:5300)")
            }
            port = value
        }
        guard IPNetwork.parseAddress(host) != nil else {
            throw .usage("--server \(text): \(host) is not an IP address (names are not resolved; e.g. 127.0.0.1:5300)")
        }
        return (host, port)
    }

    static func render(
        _ m: Message,
        name: String,
        type: RRType,
        server: String,
        port: UInt16,
        tcp: Bool,
        extras: String?,
        elapsed: Duration,
        size: Int
    ) -> String {
        var flags: [String] = []
        if m.qr { flags.append("qr") }
        if m.aa { flags.append("aa") }
        if m.tc { flags.append("tc") }
        if m.rd { flags.append("rd") }
        if m.ra { flags.append("ra") }
        if m.cd { flags.append("cd") }
        var lines: [String] = []
        lines.append("; <<>> mcdns query <<>> \(name) \(type)" + (extras.map { " (as \($0))" } ?? ""))
        lines.append(
            ";; ->>HEADER<<- opcode: \(m.opcode), status: "
                + "\(m.fullRcode), id: \(m.id)"
        )
        lines.append(
            ";; flags: \(flags.joined(separator: " ")); QUERY: \(m.question.count), ANSWER: \(m.answer.count), "
                + "AUTHORITY: \(m.authority.count), ADDITIONAL: \(m.additional.count + (m.edns == nil ? 0 : 1))"
        )
        if let edns = m.edns {
            lines.append("")
            lines.append(";; OPT PSEUDOSECTION:")
            lines.append("; EDNS: version: \(edns.version), flags:\(edns.dnssecOK ? " do" : ""); udp: \(edns.udpSize)")
        }
        func section(_ title: String, _ records: [String]) {
            guard !records.isEmpty else { return }
            lines.append("")
            lines.append(";; \(title) SECTION:")
            lines += records
        }
        section("QUESTION", m.question.map { ";" + $0 })
        section("ANSWER", m.answer)
        section("AUTHORITY", m.authority)
        section("ADDITIONAL", m.additional)
        let (seconds, attoseconds) = elapsed.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        lines.append("")
        lines.append(";; Query time: \(String(format: "%.1f", milliseconds)) msec")
        lines.append(";; SERVER: \(server)#\(port)(\(tcp ? "TCP" : "UDP"))")
        lines.append(";; MSG SIZE  rcvd: \(size)")
        return lines.joined(separator: "\n")
    }
}
