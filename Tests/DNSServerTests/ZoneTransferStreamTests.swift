import DNSAnswer
import DNSServer
import DNSWire
import Foundation
import RecordStore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How a zone transfer is streamed over a real loopback connection: message by message, held back by a client
/// that does not read, and stopped as soon as its client goes away.
@Suite struct ZoneTransferStreamTests {
    /// A zone of `names` A records: about 43 messages of 16 KiB of records, 440 KB on the wire, far more than the
    /// kernel holds for a client with a small receive buffer (a 100,000-name zone's abandoned transfer had made 2
    /// of its 214 messages).
    static let names = 20_000

    static func service() throws -> (DNSService, ZoneTransfer) {
        let origin = try DomainName("example.test")
        var text = "$ORIGIN example.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 3600 1209600 60\n"
        text += "  IN NS ns1\nns1 IN A 192.0.2.1\n"
        for index in 0..<names {
            text += "h\(index) IN A 10.\(index >> 16).\(index >> 8 & 255).\(index & 255)\n"
        }
        let (parsed, errors) = ZoneFile.parse(text, origin: origin)
        let zone = try #require(parsed, "\(errors)")
        let store = RecordStore(initial: try AnswerTable.compile(zones: [zone], serial: 1))
        store.setStaticZones([try ZoneContent(zone: zone)])
        let transfer = ZoneTransfer(
            configuration: ZoneTransferConfiguration(allow: [try #require(IPNetwork("127.0.0.0/8"))]),
            store: store,
            logger: ServerFixture.logger
        )
        let configuration = try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: 1)
        let service = DNSService(configuration: configuration, store: store, logger: ServerFixture.logger,
                                 transfer: transfer)
        return (service, transfer)
    }

    static func axfr(id: UInt16) throws -> [UInt8] {
        TestSocket.framed(try ServerFixture.query("example.test", .axfr, id: id))
    }

    /// Waits (up to `seconds`) until `condition` holds; the transfer thread finishes on its own time.
    static func eventually(seconds: Double = 20, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    @Test func aTransferWhoseClientDisconnectsStopsBeingMade() async throws {
        let (service, transfer) = try Self.service()
        try await ServerFixture.withService(service) { addresses in
            try await ServerFixture.onThread {
                // A whole transfer first: how many messages the zone takes, all made once.
                let full = try TestSocket(.tcp, port: addresses[0].port, timeout: 60)
                try full.send(try Self.axfr(id: 1))
                var messages = 0
                var records = 0
                var last: [UInt8] = []
                while records < Self.names + 4 {
                    last = try #require(try full.receiveFramed())
                    messages += 1
                    records += Int(last[6]) << 8 | Int(last[7])
                }
                // SOA, NS, ns1's A, the names, SOA.
                #expect(records == Self.names + 4)
                #expect(try Message(wire: last).answer.last?.contains("\tSOA\t") == true)
                #expect(Self.eventually { transfer.transfersServed == 1 })
                #expect(transfer.transferMessagesBuilt == messages)
                #expect(messages > 40)

                // A client with a small receive buffer takes the first message, then stops reading and resets
                // the connection: the transfer stops, far from its last message.
                let reader = try TestSocket(.tcp, port: addresses[0].port, timeout: 60, receiveBuffer: 4096)
                try reader.send(try Self.axfr(id: 2))
                _ = try #require(try reader.receiveFramed())
                reader.reset()
                #expect(Self.eventually { transfer.transfersAbandoned == 1 && transfer.transfersActive == 0 })
                let built = transfer.transferMessagesBuilt - messages
                #expect(built < messages / 2, "the abandoned transfer made \(built) of \(messages) messages")
                #expect(transfer.transfersServed == 1)
            }
        }
    }
}
