import Foundation
import Testing
import Yams

/// deploy/coredns agrees with the host's mcdns.yaml: stub blocks for exactly the zones mcdns serves, each
/// rewriting in the EDNS0 option mcdns reads the requester's cluster from; the same blocks in the ConfigMap
/// example; kube-dns stub domains for the same zones.
@Suite struct CoreDNSStubTests {
    func hostConfig() throws -> YAMLNode {
        let text = try String(contentsOfFile: DeployFixture.path("deploy/host/mcdns.yaml"), encoding: .utf8)
        return YAMLNode(try Yams.load(yaml: text))
    }

    /// `zone:53 { ... }` server blocks of a Corefile: zone → directive lines.
    static func serverBlocks(_ corefile: String) -> [String: [String]] {
        var blocks: [String: [String]] = [:]
        var current: String?
        var depth = 0
        for raw in corefile.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") || line.isEmpty { continue }
            if depth == 0, line.hasSuffix("{") {
                current = String(line.dropLast().trimmingCharacters(in: .whitespaces))
                depth = 1
                continue
            }
            if line == "}" {
                depth -= 1
                if depth == 0 { current = nil }
                continue
            }
            // A directive of the server block itself, possibly opening its own block (`kubernetes ... {`).
            if let current, depth == 1 { blocks[current, default: []].append(line) }
            if line.hasSuffix("{") { depth += 1 }
        }
        return blocks
    }

    @Test func stubBlocksForwardBothZonesWithTheClusterOption() throws {
        let config = try hostConfig()
        let option = try #require(config["locality"]["requesters"]["ednsLocalOption"].int)
        let domain = try #require(config["federation"]["domain"].string)
        let clusterset = try #require(config["clusterset"]["domain"].string)
        let stub = try String(contentsOfFile: DeployFixture.path("deploy/coredns/Corefile.stub"), encoding: .utf8)
        let blocks = Self.serverBlocks(stub)
        #expect(Set(blocks.keys) == ["\(clusterset):53", "\(domain):53"])
        let hex = "0x" + String(option, radix: 16)
        for (zone, directives) in blocks {
            let rewrite = directives.first { $0.hasPrefix("rewrite edns0 local set ") }
            let words = rewrite?.split(separator: " ").map(String.init) ?? []
            #expect(words.count == 6 && words[4] == hex, "\(zone): \(rewrite ?? "no rewrite")")
            #expect(directives.contains { $0.hasPrefix("forward . ") }, "\(zone) forwards nowhere")
        }
        // The full ConfigMap carries the same blocks next to the cluster's own.
        let configMap = YAMLNode(
            try Yams.load(
                yaml: String(
                    contentsOfFile: DeployFixture.path("deploy/coredns/coredns-configmap.yaml"),
                    encoding: .utf8
                )
            )
        )
        let full = Self.serverBlocks(configMap["data"]["Corefile"].string ?? "")
        for (zone, directives) in blocks {
            #expect(full[zone] == directives, "\(zone) differs in coredns-configmap.yaml")
        }
        #expect(full[".:53"]?.contains { $0.hasPrefix("kubernetes cluster.local") } == true)
    }

    @Test func kubeDNSStubDomainsNameTheSameZones() throws {
        let config = try hostConfig()
        let configMap = YAMLNode(
            try Yams.load(
                yaml: String(
                    contentsOfFile: DeployFixture.path("deploy/coredns/kube-dns-stubdomains.yaml"),
                    encoding: .utf8
                )
            )
        )
        #expect(configMap["metadata"]["name"].string == "kube-dns")
        #expect(configMap["metadata"]["namespace"].string == "kube-system")
        let json = try #require(configMap["data"]["stubDomains"].string)
        let stubDomains = try JSONDecoder().decode([String: [String]].self, from: Data(json.utf8))
        let served = [config["clusterset"]["domain"].string, config["federation"]["domain"].string].compactMap { $0 }
        #expect(served.count == 2 && Set(stubDomains.keys) == Set(served))
        for servers in stubDomains.values { #expect(!servers.isEmpty) }
    }
}
