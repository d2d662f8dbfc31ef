import DNSWire
import Foundation
import MCDNSDaemon
import Testing

/// Every example configuration and every shipped zone goes through the code `mcdns check` runs, so what the
/// repository shows a user is known to work.
@Suite struct ShippedFilesTests {
    static var root: String { MCDNSProcess.packageRoot }

    static func exampleConfigs() -> [String] {
        let examples = "\(root)/examples"
        let files = FileManager.default.enumerator(atPath: examples)?.compactMap { $0 as? String } ?? []
        return files.filter { $0.hasSuffix(".yaml") && $0.split(separator: "/").last?.hasPrefix("mcdns") == true }
            .sorted().map { "\(examples)/\($0)" }
    }

    @Test func thereAreExamplesToCheck() {
        #expect(Self.exampleConfigs().contains("\(Self.root)/examples/demo/mcdns.yaml"))
        #expect(Self.exampleConfigs().contains("\(Self.root)/examples/hardened/mcdns.yaml"))
    }

    /// examples/hardened is the demo with rate limiting at 20 responses a second per /24, slip 2, and cookies.
    @Test func hardenedExampleLimitsAndAnswersCookies() throws {
        let report = ConfigurationCheck.run(file: "\(Self.root)/examples/hardened/mcdns.yaml")
        let configuration = try #require(report.configuration)
        #expect(configuration.listen.dns.map(\.description) == ["127.0.0.1:5300"])
        #expect(configuration.clusters.map(\.name.description) == ["east-1", "east-2", "west-1"])
        let rateLimit = configuration.dns.rateLimit
        #expect(rateLimit.isEnabled)
        #expect(rateLimit.rates == [20, 20, 20, 20, 20, 20])
        #expect(rateLimit.slip == 2)
        #expect(rateLimit.ipv4PrefixLength == 24)
        #expect(configuration.dns.cookies.enabled)
        // The member directories are the demo's, found relative to the file wherever mcdns runs from.
        for cluster in configuration.clusters {
            guard case .manifests(let directory) = cluster.source else {
                Issue.record("\(cluster.name) is not a manifest directory")
                continue
            }
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue)
        }
        #expect(try MCDNSDaemon.cookieKeyring(configuration) != nil)
    }

    @Test(arguments: exampleConfigs())
    func exampleConfigPassesCheck(file: String) {
        let report = ConfigurationCheck.run(file: file)
        #expect(report.errors.isEmpty, "\(report.errors.map(\.description).joined(separator: "\n"))")
        #expect(report.configuration != nil)
        #expect(!report.zones.isEmpty)
    }

    /// The configuration reference in README.md is a valid config whose values are the real defaults (plus the
    /// example federation), so the documentation cannot drift from the parser.
    @Test func readmeConfigurationReferenceIsValidAndShowsTheDefaults() throws {
        let readme = "\(Self.root)/README.md"
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        let blocks = text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count == 1)
        for block in blocks {
            let parsed = try Configuration.parse(yaml: block, file: readme)
            var expected = Configuration(file: readme, directory: Self.root)
            expected.federation = Configuration.Federation(name: "acme", domain: try DomainName("example.com"))
            #expect(parsed == expected)
        }
    }

    @Test func everyShippedZoneLoadsAndCompiles() throws {
        let loaded = ZoneDirectory.load("\(Self.root)/zones")
        #expect(loaded.errors.isEmpty, "\(loaded.errors.map(\.description).joined(separator: "\n"))")
        #expect(loaded.zones.map(\.origin.description) == ["clusterset.local.", "example.com."])
        _ = try StaticAnswers.compile(zones: loaded.zones, configuration: Configuration(directory: Self.root))
    }

    @Test func clustersetZoneCarriesTheMCSVersion() throws {
        let loaded = ZoneDirectory.load("\(Self.root)/zones")
        let zone = try #require(loaded.zones.first { $0.origin == (try? DomainName("clusterset.local")) })
        let table = try StaticAnswers.compile(zones: [zone], configuration: Configuration(directory: Self.root))
        // Asked the way a client asks: a query in wire form through the table's own responder.
        let query = try Message.query(name: try DomainName("dns-version.clusterset.local"), type: .txt)
        var output = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBytes { question in
            output.withUnsafeMutableBytes { table.respond(to: question, transport: .udp, into: $0) }
        }
        let response = try Message(wire: Array(output.prefix(length)))
        #expect(response.rcode == .noError && response.aa)
        // The MCS DNS specification requires exactly this record.
        #expect(response.answer.count == 1)
        #expect(response.answer.first?.hasSuffix("TXT\t\"1.0.0\"") == true, "\(response.answer)")
    }
}
