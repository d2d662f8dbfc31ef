import DNSAnswer
import DNSServer
import DNSTestSupport
import DNSWire
import Foundation
import RecordStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A TSIG-signed request whose time is an hour from the server's gets NOTAUTH with BADTIME, signed (RFC 8945
/// §5.2.3), and kdig, the client, verifies that signature: over TCP (a transfer) and over UDP (a signed query).
@Suite struct TransferBadTimeTests {
    static let secret = "qBvKXUpo4zNzOThnIV28KTuR5Ms5Pw7XWCnu0K4dNtY="

    @Test func aRequestAnHourOffGetsASignedBADTIMEThatKdigVerifies() async throws {
        let key = TSIGKey(name: try DomainName("xfr-key"), algorithm: .hmacSHA256,
                          secret: try #require(TSIGKey.secret(base64: Self.secret)))
        let store = try ServerFixture.store()
        let (zone, _) = ZoneFile.parse(ServerFixture.zone, origin: try DomainName("example.test"))
        store.setStaticZones([try ZoneContent(zone: try #require(zone))])
        // The server's clock runs an hour ahead of kdig's.
        let transfer = ZoneTransfer(
            configuration: ZoneTransferConfiguration(
                allow: [try #require(IPNetwork("127.0.0.0/8"))], keys: [key], requireTSIG: true),
            store: store,
            logger: ServerFixture.logger,
            clock: { UInt64(time(nil)) + 3600 }
        )
        let service = DNSService(
            configuration: try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: 1),
            store: store, logger: ServerFixture.logger, transfer: transfer)
        try await ServerFixture.withService(service) { addresses in
            let executable = try ProcessRunner.locate("kdig", package: "knot-dnsutils")
            /// kdig's output, its warnings and errors (on standard error) included.
            func kdig(_ question: [String]) async throws -> String {
                try await ServerFixture.onThread {
                    let output = try ProcessRunner.run(
                        executable,
                        ["@127.0.0.1", "-p", "\(addresses[0].port)", "-y", "hmac-sha256:xfr-key:\(Self.secret)",
                         "+time=3", "+retry=0", "example.test"] + question,
                        timeout: .seconds(10))
                    return output.stdout + output.stderr
                }
            }
            // A signed query over UDP: kdig prints the TSIG (a 32-byte MAC, error BADTIME, 6 bytes of Other Data:
            // our time) and verifies it; what it then objects to is the time, not the signature.
            let query = try await kdig(["+notcp", "SOA"])
            #expect(query.contains("status: BADTIME"))
            let tsig = try #require(query.split(separator: "\n").first { $0.contains("\tTSIG\t") })
            #expect(tsig.contains(" 300 32 ") && tsig.contains(" BADTIME 6 "), "\(tsig)")
            #expect(query.contains("(TSIG out of time window)"), "\(query)")
            // A transfer over TCP: refused with BADTIME.
            let axfr = try await kdig(["+tcp", "AXFR"])
            #expect(axfr.contains("server replied with error 'BADTIME'"), "\(axfr)")
        }
        #expect(transfer.refusalCounts[.badTime] == 1)
    }
}
