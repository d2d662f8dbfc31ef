import Foundation
import Testing

/// `mcdns` as a user runs it: the built binary in a subprocess, judged by exit status and output.
@Suite struct CommandTests {
    @Test func checkAcceptsTheDemoConfig() throws {
        let result = try MCDNSProcess.run(["check", "--config", "examples/demo/mcdns.yaml"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.standardOutput.contains("examples/demo/mcdns.yaml: configuration ok"))
        #expect(result.standardOutput.contains("zones/example.com.zone: zone example.com. ok"))
        #expect(result.standardOutput.contains("zones/clusterset.local.zone: zone clusterset.local. ok"))
        #expect(result.standardOutput.contains("ok: 1 configuration, 2 zone files"))
    }

    @Test func checkReportsConfigErrorsWithFileAndLine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        let file = try dir.write("mcdns.yaml", "listen:\n  dns: [\"127.0.0.1\"]\nttl: { record: soon }\nnope: 1\n")
        let result = try MCDNSProcess.run(["check", "--config", file])
        #expect(result.status == 1)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(file):2: listen.dns[0]: ") })
        #expect(lines.contains { $0.hasPrefix("\(file):3: ttl.record: ") })
        #expect(lines.contains { $0.hasPrefix("\(file):4: unknown key \"nope\"") })
        #expect(lines.last == "failed: 3 errors in \(file) and its zone files")
    }

    @Test func checkReportsZoneErrorsWithFileAndLine() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let zone = try dir.write(
            "zones/broken.test.zone",
            """
            $ORIGIN broken.test.
            @    3600 IN SOA ns1 hostmaster 1 7200 900 1209600 5
            @    3600 IN NS  ns1
            ns1  3600 IN A   192.0.2.1
            www  3600 IN A   192.0.2.999
            mail 3600 IN MX  ten mail
            """
        )
        let config = try dir.write("mcdns.yaml", "zonesDir: zones\n")
        let result = try MCDNSProcess.run(["check", "--config", config])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.standardOutput.contains("\(zone):5: "), "\(result.output)")
        #expect(result.standardOutput.contains("failed: "))
    }

    @Test func checkOfAMissingConfigFails() throws {
        let result = try MCDNSProcess.run(["check", "--config", "/nonexistent/mcdns.yaml"])
        #expect(result.status == 1)
        #expect(result.standardOutput.contains("/nonexistent/mcdns.yaml: cannot read"))
    }

    @Test func checkWithoutConfigIsAUsageError() throws {
        let result = try MCDNSProcess.run(["check"])
        #expect(result.status == 64)
        #expect(result.standardError.contains("Missing expected argument '--config <config>'"))
    }

    @Test(arguments: [[], ["check"], ["serve"]])
    func helpShowsUsageAndExamples(command: [String]) throws {
        let result = try MCDNSProcess.run(command + ["--help"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.standardOutput.contains("USAGE: mcdns \(command.joined(separator: " "))"))
        #expect(result.standardOutput.contains("Examples:"))
        if !command.isEmpty { #expect(result.standardOutput.contains("--config <config>")) }
    }
}
