import DNSTestSupport
import Foundation
import Testing

/// examples/secondary runs as its README says, unchanged: mcdns on 127.0.0.1:5300 and Knot on 127.0.0.1:5301,
/// each started from that folder with its own file, and Knot answers the demo names as mcdns does.
@Suite(.serialized) struct SecondaryExampleTests {
    static let folder = TestZones.packageRoot.appendingPathComponent("examples/secondary").path

    @Test func theExampleRunsAsIs() throws {
        let mcdns = try BackgroundProcess(
            "/bin/sh",
            ["-c", "cd '\(Self.folder)' && exec '\(KnotDifferentialTests.mcdnsBinary)' serve --config mcdns.yaml"],
            logPath: NSTemporaryDirectory() + "/mcdns-secondary-example-\(getpid()).log"
        )
        defer { mcdns.stop() }
        try DNSReadiness.waitUntilAnswering(port: 5300, process: mcdns, timeout: .seconds(30))
        let knotd = try ProcessRunner.locate("knotd", package: "knot")
        let knot = try BackgroundProcess(
            "/bin/sh",
            ["-c", "cd '\(Self.folder)' && exec '\(knotd)' -c knot.conf"],
            logPath: NSTemporaryDirectory() + "/knot-secondary-example-\(getpid()).log"
        )
        defer { knot.stop() }
        try DNSReadiness.waitUntilAnswering(port: 5301, process: knot, timeout: .seconds(30))

        let primary = try Dig(port: 5300)
        let secondary = try Dig(port: 5301)
        for name in ["web.shop.acme.svc.example.com", "web.shop.svc.clusterset.local", "api.example.com"] {
            _ = try LiveRecordsEndToEndTests.waitFor(primary, name, "A", within: .seconds(10)) { !$0.isEmpty }
            let expected = try LiveRecordsEndToEndTests.rdata(primary, name, "A")
            _ = try ZoneTransferTests.waitFor(
                "Knot \(name) A",
                within: .seconds(20),
                {
                    try LiveRecordsEndToEndTests.rdata(secondary, name, "A")
                }
            ) { $0 == expected }
        }
        #expect(knot.log.contains("AXFR, incoming"), "\(knot.log)")
        #expect(mcdns.isRunning && knot.isRunning, "\(mcdns.log)\n\(knot.log)")
    }
}
