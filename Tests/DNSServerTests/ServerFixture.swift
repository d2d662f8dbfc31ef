import DNSAnswer
import DNSServer
import DNSTestSupport
import DNSWire
import Foundation
import Logging
import RecordStore
import ServiceLifecycle

/// The zone every server test serves, and helpers to run a server and ask it questions.
enum ServerFixture {
    static let zone = """
        $ORIGIN example.test.
        $TTL 300
        @    IN SOA ns1 hostmaster 1 7200 3600 1209600 60
             IN NS ns1
        ns1  IN A 192.0.2.1
        www  IN A 192.0.2.80
             IN AAAA 2001:db8::80
        mail IN A 192.0.2.25
        \((1...200).map { "big IN A 198.51.100.\($0)" }.joined(separator: "\n"))

        """

    /// Tests assert on behaviour, not on log lines; the servers still get a real logger to call.
    static let logger = Logger(label: "mcdns.test.dnsserver", factory: { _ in SwiftLogNoOpLogHandler() })

    static func table() throws -> AnswerTable {
        let (zone, errors) = ZoneFile.parse(Self.zone, origin: try DomainName("example.test"))
        guard let zone else { throw FixtureError(message: "fixture zone: \(errors)") }
        return try AnswerTable.compile(zones: [zone], serial: 1)
    }

    static func store() throws -> RecordStore {
        RecordStore(initial: try table())
    }

    static func query(_ name: String, _ type: RRType, id: UInt16) throws -> [UInt8] {
        try Message.query(name: try DomainName(name), type: type, id: id)
    }

    /// Runs a `DNSService` in a real `ServiceGroup` on loopback, hands its bound addresses to `body`, then shuts
    /// the group down gracefully and waits until `run()` has returned.
    static func withService<T: Sendable>(
        _ configuration: DNSServerConfiguration,
        store: RecordStore,
        _ body: @Sendable ([ListenAddress]) async throws -> T
    ) async throws -> T {
        try await withService(DNSService(configuration: configuration, store: store, logger: logger), body)
    }

    /// As above, for a service the test made (to read its statistics).
    static func withService<T: Sendable>(
        _ service: DNSService,
        _ body: @Sendable ([ListenAddress]) async throws -> T
    ) async throws -> T {
        let group = ServiceGroup(services: [service], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let addresses = try await service.ready()
                let result = try await body(addresses)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    /// Runs `dig` against `address` and returns its output; `+short` prints only the answer data.
    /// `timeout` bounds the whole run (a batch of queries with `-f` takes longer than one).
    static func dig(_ address: ListenAddress, _ arguments: [String], timeout: Duration = .seconds(10)) async throws -> String {
        try await onThread {
            let dig = try ProcessRunner.locate("dig", package: "dnsutils")
            let output = try ProcessRunner.run(
                dig,
                ["@\(address.host)", "-p", "\(address.port)", "+time=3", "+tries=1"] + arguments,
                timeout: timeout
            )
            let text = output.stdout + output.stderr
            guard output.status == 0, !output.timedOut else {
                throw FixtureError(message: "dig \(arguments) exited \(output.status): \(text)")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Runs blocking socket or process work on its own thread, so it never holds a thread of the cooperative pool
    /// that the servers under test need.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.start()
        }
    }

    struct FixtureError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
