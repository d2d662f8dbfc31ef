import DNSServer
import DNSWire
import Foundation
import MCDNSDaemon
import MCDNSModel
import Testing

@Suite struct ConfigurationTests {
    static let fullExample = """
        listen:
          dns: ["127.0.0.1:5300", "[::1]:5300"]
          admin: 127.0.0.1:9253
        zonesDir: zones
        stateDir: /var/lib/mcdns
        federation: { name: acme, domain: example.com }
        clusterset: { domain: clusterset.example }
        ttl: { record: 60, degraded: 7, negative: 9 }
        locality:
          policy: [cluster, region, global]
          requesters:
            ednsLocalOption: 65000
            subnets:
              - { cidr: 10.1.0.0/16, cluster: east-1 }
              - { cidr: "fd00:1::/32", cluster: west-1 }
        staleGracePeriod: 1h30m
        export: { annotation: mcdns.io/dns, serviceExport: false, namespaces: [shop, payments] }
        clusters:
          - name: east-1
            region: us-east-1
            zones: [us-east-1a, us-east-1b]
            source: { kubeconfig: creds/east-1.kubeconfig, context: east }
          - name: west-1
            source:
              tunnel:
          - name: demo
            source: { manifests: ../manifests/demo }
          - name: local
            source: { inCluster: true }
        tunnel:
          listen: "0.0.0.0:8443"
          tls: { cert: tls/host.crt, key: tls/host.key }
          clusters:
            west-1:
              tokenSHA256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
              previousTokenSHA256: 60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
        host: { kubeconfig: creds/host.kubeconfig, namespace: dns, leaseDuration: 20s, renewDeadline: 12s, retryPeriod: 3s, statusResync: 1m }
        dns: { maxUDPPayload: 4096, rotate: false, tcpIdleTimeout: 30s, tcpMessageTimeout: 500ms, maxTCPConnections: 2000, maxTCPConnectionsPerSource: 4, maxTCPPipelined: 8, udpThreadsPerAddress: 2 }
        """

    @Test func fullExampleReadsEveryField() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("etc/zones")
        try dir.makeDirectory("manifests/demo")
        try dir.write("etc/creds/east-1.kubeconfig", "apiVersion: v1\n")
        try dir.write("etc/creds/host.kubeconfig", "apiVersion: v1\n")
        try dir.write("etc/tls/host.crt", "certificate\n")
        try dir.write("etc/tls/host.key", "key\n")
        let file = try dir.write("etc/mcdns.yaml", Self.fullExample)

        let config = try Configuration.load(file: file)
        let etc = "\(dir.path)/etc"
        #expect(config.file == file)
        #expect(
            try config.listen.dns == [
                Configuration.ListenAddress(host: "127.0.0.1", port: 5300),
                Configuration.ListenAddress(host: "::1", port: 5300),
            ]
        )
        #expect(config.listen.dns[1].description == "[::1]:5300")
        #expect(try config.listen.admin == Configuration.ListenAddress(host: "127.0.0.1", port: 9253))
        #expect(config.zonesDir == "\(etc)/zones")
        #expect(config.stateDir == "/var/lib/mcdns")
        #expect(config.federation == Configuration.Federation(name: "acme", domain: try DomainName("example.com")))
        #expect(config.clusterset.domain == (try DomainName("clusterset.example")))
        #expect(config.ttl.record == 60 && config.ttl.degraded == 7 && config.ttl.negative == 9)
        #expect(config.locality.policy == [.cluster, .region, .global])
        #expect(config.locality.requesters.ednsLocalOption == 65000)
        let subnets = config.locality.requesters.subnets
        #expect(subnets.map { $0.cidr.address } == [[10, 1, 0, 0], [0xfd, 0, 0, 1] + Array(repeating: 0, count: 12)])
        #expect(subnets.map { $0.cidr.prefixLength } == [16, 32])
        #expect(subnets.map { $0.cluster } == ["east-1", "west-1"])
        #expect([UInt8]([10, 1, 200, 3]).withUnsafeBytes { subnets[0].cidr.contains($0) })
        #expect(![UInt8]([10, 2, 0, 1]).withUnsafeBytes { subnets[0].cidr.contains($0) })
        #expect(config.staleGracePeriod == .seconds(5400))
        #expect(config.export.annotation == "mcdns.io/dns")
        #expect(config.export.serviceExport == false)
        #expect(config.export.namespaces == ["shop", "payments"])
        #expect(config.clusters.map(\.name) == ["east-1", "west-1", "demo", "local"])
        #expect(config.clusters[0].region == "us-east-1")
        #expect(config.clusters[0].zones == ["us-east-1a", "us-east-1b"])
        #expect(config.clusters[0].source == .kubeconfig(path: "\(etc)/creds/east-1.kubeconfig", context: "east"))
        #expect(config.clusters[1].source == .tunnel)
        #expect(config.clusters[1].region == nil)
        #expect(config.clusters[2].source == .manifests(directory: "\(dir.path)/manifests/demo"))
        #expect(config.clusters[3].source == .inCluster)
        #expect(try config.tunnel?.listen == Configuration.ListenAddress(host: "0.0.0.0", port: 8443))
        #expect(config.tunnel?.tls == Configuration.TLS(certificate: "\(etc)/tls/host.crt", key: "\(etc)/tls/host.key"))
        #expect(
            config.tunnel?.clusters["west-1"]?.tokenSHA256
                == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        )
        #expect(
            config.tunnel?.clusters["west-1"]?.previousTokenSHA256
                == "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
        )
        var host = Configuration.Host(
            credentials: .kubeconfig(path: "\(etc)/creds/host.kubeconfig", context: nil),
            namespace: "dns"
        )
        host.leaseDuration = .seconds(20)
        host.renewDeadline = .seconds(12)
        host.retryPeriod = .seconds(3)
        host.statusResync = .seconds(60)
        #expect(config.host == host)
        #expect(config.dns.maxUDPPayload == 4096)
        #expect(config.dns.rotate == false)
        #expect(config.dns.tcpIdleTimeout == .seconds(30))
        #expect(config.dns.tcpMessageTimeout == .milliseconds(500))
        #expect(config.dns.maxTCPConnections == 2000 && config.dns.maxTCPConnectionsPerSource == 4)
        #expect(config.dns.maxTCPPipelined == 8)
        #expect(config.dns.udpThreadsPerAddress == 2)
    }

    @Test func emptyFileGivesTheDocumentedDefaults() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        let file = try dir.write("mcdns.yaml", "# nothing set\n")
        let config = try Configuration.load(file: file)
        #expect(try config.listen.dns == [Configuration.ListenAddress(host: "127.0.0.1", port: 5300)])
        #expect(try config.listen.admin == Configuration.ListenAddress(host: "127.0.0.1", port: 9253))
        #expect(config.zonesDir == "\(dir.path)/zones")
        #expect(config.stateDir == "\(dir.path)/.mcdns-state")
        #expect(config.federation == nil)
        #expect(config.clusterset.domain == (try DomainName("clusterset.local")))
        #expect(config.ttl == Configuration.TTL())
        #expect(config.ttl.record == 30 && config.ttl.degraded == 5 && config.ttl.negative == 5)
        #expect(config.locality.policy == [.cluster, .zone, .region, .global])
        #expect(config.locality.requesters.ednsLocalOption == 0xffee)
        #expect(config.locality.requesters.subnets.isEmpty)
        #expect(config.staleGracePeriod == .seconds(120))
        #expect(
            config.export.annotation == "mcdns.io/export" && config.export.serviceExport
                && config.export.namespaces.isEmpty
        )
        #expect(config.clusters.isEmpty && config.tunnel == nil && config.host == nil)
        #expect(config.dns.maxUDPPayload == 1232 && config.dns.tcpIdleTimeout == .seconds(10))
        #expect(config.dns.rotate, "rotation is on by default")
        #expect(config.dns.udpThreadsPerAddress == 0)
        #expect(config.dns.tcpMessageTimeout == .seconds(2) && config.dns.maxTCPConnections == 512)
        #expect(config.dns.maxTCPConnectionsPerSource == 16 && config.dns.maxTCPPipelined == 64)
    }

    @Test func clustersDrainDefaultsToFalse() throws {
        let config = try Configuration.parse(
            yaml: """
                zonesDir: ../../Sources
                clusters:
                  - { name: east-1, drain: true, source: { inCluster: true } }
                  - { name: west-1, source: { inCluster: true } }
                """,
            file: "Tests/MCDNSDaemonTests/x.yaml"
        )
        #expect(config.clusters.map(\.drain) == [true, false])
    }

    @Test func relativeConfigPathKeepsRelativePathsShortAndCorrect() throws {
        // Messages show paths as the user sees them: `examples/demo/../../zones` becomes `zones`.
        let config = try Configuration.parse(yaml: "zonesDir: ../../Sources\n", file: "Tests/MCDNSDaemonTests/x.yaml")
        #expect(config.zonesDir == "Sources")
    }

    @Test(arguments: [
        "120s": Duration.seconds(120), "2m": .seconds(120), "1h30m": .seconds(5400), "500ms": .milliseconds(500),
        "45": .seconds(45), "1m30s": .seconds(90), "250us": .microseconds(250), "0": .zero,
    ])
    func durations(text: String, expected: Duration) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        let config = try Configuration.parse(yaml: "staleGracePeriod: \(text)\n", file: "\(dir.path)/c.yaml")
        #expect(config.staleGracePeriod == expected)
    }

    /// One broken config per row: the line the problem must be reported on and a piece of its message.
    struct BrokenCase: CustomTestStringConvertible, Sendable {
        let name: String
        let yaml: String
        let line: Int?
        let message: String
        var testDescription: String { name }
    }

    static let brokenCases: [BrokenCase] = [
        BrokenCase(
            name: "unknown top-level key",
            yaml: "ttl: {}\nzoneDir: zones\n",
            line: 2,
            message: "unknown key \"zoneDir\"; did you mean \"zonesDir\"?"
        ),
        BrokenCase(
            name: "unknown nested key",
            yaml: "listen:\n  dns: [\"127.0.0.1:53\"]\n  http: 1\n",
            line: 3,
            message: "listen: unknown key \"http\""
        ),
        BrokenCase(
            name: "mapping where a list belongs",
            yaml: "listen:\n  dns:\n    a: 1\n",
            line: 3,
            message: "listen.dns: expected a list, found a mapping"
        ),
        BrokenCase(
            name: "list where a mapping belongs",
            yaml: "ttl: [1, 2]\n",
            line: 1,
            message: "ttl: expected a mapping"
        ),
        BrokenCase(
            name: "text where a number belongs",
            yaml: "ttl:\n  record: thirty\n",
            line: 2,
            message: "ttl.record: expected a whole number, found \"thirty\""
        ),
        BrokenCase(
            name: "ttl out of range",
            yaml: "ttl: { negative: -1 }\n",
            line: 1,
            message: "ttl.negative: -1 is out of range"
        ),
        BrokenCase(
            name: "bad boolean",
            yaml: "\nexport: { serviceExport: maybe }\n",
            line: 2,
            message: "export.serviceExport: expected true or false"
        ),
        BrokenCase(
            name: "export annotation the decoder would drop",
            yaml: "export:\n  annotation: example.io/export\n",
            line: 2,
            message: "export.annotation: \"example.io/export\" must be a mcdns.io/NAME annotation"
        ),
        BrokenCase(
            name: "bad duration",
            yaml: "staleGracePeriod: 2 minutes\n",
            line: 1,
            message: "staleGracePeriod: \"2 minutes\" is not a duration"
        ),
        // Issue 22, finding 1: these became timers whose nanoseconds overflowed Int64 and trapped.
        BrokenCase(
            name: "duration of Int64.max seconds",
            yaml: "dns:\n  tcpIdleTimeout: 9223372036854775807\n",
            line: 2,
            message: "dns.tcpIdleTimeout: \"9223372036854775807\" is not a duration"
        ),
        BrokenCase(
            name: "duration beyond ten years",
            yaml: "staleGracePeriod: 87601h\n",
            line: 1,
            message: "staleGracePeriod: \"87601h\" is not a duration"
        ),
        // Issue 22, finding 2: aliases multiply what they point at (six levels of nine: 600,000 nodes).
        BrokenCase(
            name: "billion laughs",
            yaml: "x: &l0 [a, a, a, a, a, a, a, a, a]\n"
                + (1..<6).map { "x\($0): &l\($0) [" + Array(repeating: "*l\($0 - 1)", count: 9).joined(separator: ", ") + "]\n" }
                .joined(),
            line: 6,
            message: "YAML expands to more than 100000 nodes"
        ),
        BrokenCase(
            name: "nested too deep",
            yaml: "\nexport: { namespaces: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + " }\n",
            line: 2,
            message: "YAML nested more than 32 levels deep"
        ),
        BrokenCase(
            name: "admin idle timeout too short",
            yaml: "admin:\n  idleTimeout: 1ms\n",
            line: 2,
            message: "admin.idleTimeout: must be at least 10ms"
        ),
        BrokenCase(
            name: "admin connections out of range",
            yaml: "admin: { maxConnections: 0 }\n",
            line: 1,
            message: "admin.maxConnections: 0 is out of range"
        ),
        BrokenCase(
            name: "bad duration unit",
            yaml: "dns:\n  tcpIdleTimeout: 10d\n",
            line: 2,
            message: "dns.tcpIdleTimeout: \"10d\" is not a duration"
        ),
        BrokenCase(
            name: "zero TCP pipelining",
            yaml: "dns:\n  maxTCPPipelined: 0\n",
            line: 2,
            message: "dns.maxTCPPipelined"
        ),
        BrokenCase(
            name: "listen address without port",
            yaml: "listen:\n  dns:\n    - 127.0.0.1\n",
            line: 3,
            message: "listen.dns[0]: \"127.0.0.1\": expected HOST:PORT"
        ),
        BrokenCase(
            name: "listen address with host name",
            yaml: "listen: { admin: \"localhost:9253\" }\n",
            line: 1,
            message: "listen.admin: \"localhost:9253\": \"localhost\" is not an IP address"
        ),
        BrokenCase(
            name: "listen port out of range",
            yaml: "listen:\n  dns: [\"127.0.0.1:70000\"]\n",
            line: 2,
            message: "port \"70000\" is not a number from 0 to 65535"
        ),
        BrokenCase(
            name: "IPv6 listen address without brackets",
            yaml: "listen: { dns: [\"::1:53\"] }\n",
            line: 1,
            message: "put an IPv6 address in brackets"
        ),
        BrokenCase(
            name: "listen address twice",
            yaml: "listen:\n  dns:\n    - 127.0.0.1:53\n    - 127.0.0.1:53\n",
            line: 4,
            message: "listen.dns[1]: 127.0.0.1:53 is listed twice (first at line 3)"
        ),
        BrokenCase(
            name: "no DNS listener",
            yaml: "listen:\n  dns: []\n",
            line: 2,
            message: "listen.dns: is empty"
        ),
        BrokenCase(
            name: "CIDR with host bits",
            yaml: """
                clusters: [{ name: east-1, source: { inCluster: true } }]
                locality:
                  requesters:
                    subnets:
                      - { cidr: 10.1.2.0/16, cluster: east-1 }
                """,
            line: 5,
            message: "host bits are set; did you mean 10.1.0.0/16?"
        ),
        BrokenCase(
            name: "CIDR prefix too long",
            yaml: """
                clusters: [{ name: east-1, source: { inCluster: true } }]
                locality: { requesters: { subnets: [ { cidr: 10.0.0.0/33, cluster: east-1 } ] } }
                """,
            line: 2,
            message: "prefix length \"33\" must be a number from 0 to 32"
        ),
        BrokenCase(
            name: "CIDR that is not an address",
            yaml: """
                clusters: [{ name: east-1, source: { inCluster: true } }]
                locality: { requesters: { subnets: [ { cidr: east/8, cluster: east-1 } ] } }
                """,
            line: 2,
            message: "\"east\" is not an IPv4 or IPv6 address"
        ),
        BrokenCase(
            name: "subnet of an unknown cluster",
            yaml: """
                clusters: [{ name: east-1, source: { inCluster: true } }]
                locality:
                  requesters:
                    subnets: [ { cidr: 10.0.0.0/8, cluster: west-9 } ]
                """,
            line: 4,
            message: "unknown cluster \"west-9\"; configured: east-1"
        ),
        BrokenCase(
            name: "unknown locality level",
            yaml: "locality:\n  policy: [cluster, continent]\n",
            line: 2,
            message: "locality.policy[1]: unknown level \"continent\""
        ),
        BrokenCase(
            name: "duplicate cluster name",
            yaml: """
                clusters:
                  - name: east-1
                    source: { inCluster: true }
                  - name: east-1
                    source: { inCluster: true }
                """,
            line: 4,
            message: "duplicate cluster name \"east-1\" (first defined at line 2)"
        ),
        BrokenCase(
            name: "cluster name that is not a label",
            yaml: """
                clusters:
                  - name: East_1
                    source: { inCluster: true }
                """,
            line: 2,
            message: "clusters[0].name: \"East_1\" is not a DNS label"
        ),
        BrokenCase(
            name: "cluster without a source",
            yaml: "clusters:\n  - name: east-1\n",
            line: 2,
            message: "clusters[0].source: is required"
        ),
        BrokenCase(
            name: "drain that is not a boolean",
            yaml: """
                clusters:
                  - name: east-1
                    drain: maybe
                    source: { inCluster: true }
                """,
            line: 3,
            message: "clusters[0].drain: expected true or false, found \"maybe\""
        ),
        BrokenCase(
            name: "cluster with two sources",
            yaml: """
                clusters:
                  - name: east-1
                    source: { inCluster: true, manifests: m }
                """,
            line: 3,
            message: "clusters[0].source: has manifests and inCluster; give exactly one"
        ),
        BrokenCase(
            name: "relative path that does not exist",
            yaml: """
                clusters:
                  - name: east-1
                    source:
                      manifests: does/not/exist
                """,
            line: 4,
            message: "clusters[0].source.manifests: <dir>/does/not/exist does not exist"
        ),
        BrokenCase(
            name: "kubeconfig that is a directory",
            yaml: """
                clusters:
                  - name: east-1
                    source: { kubeconfig: zones }
                """,
            line: 3,
            message: "<dir>/zones is a directory, expected a file"
        ),
        BrokenCase(
            name: "zonesDir that does not exist",
            yaml: "\n\nzonesDir: nowhere\n",
            line: 3,
            message: "zonesDir: <dir>/nowhere does not exist"
        ),
        BrokenCase(
            name: "tunnel source without tunnel section",
            yaml: """
                clusters:
                  - name: west-1
                    source: { tunnel: {} }
                """,
            line: 3,
            message: "needs a top-level tunnel section"
        ),
        BrokenCase(
            name: "tunnel token that is not a SHA-256",
            yaml: """
                clusters: [{ name: west-1, source: { tunnel: {} } }]
                tunnel:
                  tls: { cert: zones, key: zones }
                  clusters:
                    west-1: { tokenSHA256: abc123 }
                """,
            line: 5,
            message: "tunnel.clusters.west-1.tokenSHA256: expected 64 hex digits"
        ),
        BrokenCase(
            name: "tunnel cluster without a token and no client CA",
            yaml: """
                clusters: [{ name: west-1, source: { tunnel: {} } }]
                tunnel:
                  tls: { cert: zones, key: zones }
                  clusters:
                    west-1: {}
                """,
            line: 5,
            message: "tunnel.clusters.west-1.tokenSHA256: is required (or set tunnel.tls.clientCA"
        ),
        BrokenCase(
            name: "previous tunnel token that is not a SHA-256",
            yaml: """
                clusters: [{ name: west-1, source: { tunnel: {} } }]
                tunnel:
                  tls: { cert: zones, key: zones }
                  clusters:
                    west-1: { tokenSHA256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, previousTokenSHA256: xyz }
                """,
            line: 5,
            message: "tunnel.clusters.west-1.previousTokenSHA256: expected 64 hex digits"
        ),
        BrokenCase(
            name: "tunnel without tls",
            yaml: "tunnel:\n  listen: 0.0.0.0:8443\n",
            line: 1,
            message: "tunnel.tls: is required"
        ),
        BrokenCase(
            name: "host with both credentials",
            yaml: "host: { inCluster: true, kubeconfig: k }\n",
            line: 1,
            message: "host: has kubeconfig and inCluster; give exactly one"
        ),
        BrokenCase(
            name: "host lease shorter than its renew deadline",
            yaml: "host:\n  inCluster: true\n  leaseDuration: 5s\n  renewDeadline: 10s\n",
            line: 4,
            message: "host: leaseDuration must be greater than renewDeadline"
        ),
        BrokenCase(
            name: "host renew deadline without room for a retry",
            yaml: "host:\n  inCluster: true\n  renewDeadline: 2s\n  retryPeriod: 2s\n",
            line: 3,
            message: "host: renewDeadline must be greater than 1.2 × retryPeriod"
        ),
        BrokenCase(
            name: "host lease timing not a duration",
            yaml: "host:\n  inCluster: true\n  retryPeriod: often\n",
            line: 3,
            message: "host.retryPeriod: \"often\" is not a duration"
        ),
        BrokenCase(
            name: "federation without domain",
            yaml: "federation:\n  name: acme\n",
            line: 1,
            message: "federation.domain: is required when federation is set"
        ),
        BrokenCase(
            name: "required field left empty",
            yaml: "federation:\n  name:\n  domain: example.com\n",
            line: 1,
            message: "federation.name: is required when federation is set"
        ),
        BrokenCase(
            name: "bad domain name",
            yaml: "clusterset: { domain: \"a..b\" }\n",
            line: 1,
            message: "clusterset.domain: invalid domain name \"a..b\": empty label"
        ),
        BrokenCase(
            name: "rotate not a boolean",
            yaml: "dns: { rotate: sometimes }\n",
            line: 1,
            message: "dns.rotate: expected true or false"
        ),
        BrokenCase(
            name: "UDP payload below 512",
            yaml: "dns: { maxUDPPayload: 100 }\n",
            line: 1,
            message: "dns.maxUDPPayload: 100 is out of range (512 to 65507)"
        ),
        BrokenCase(
            name: "rate limit slip beyond 10",
            yaml: "dns:\n  rateLimit:\n    responsesPerSecond: 20\n    slip: 11\n",
            line: 4,
            message: "dns.rateLimit.slip: 11 is out of range (0 to 10)"
        ),
        BrokenCase(
            name: "rate limit exempt that is no CIDR",
            yaml: "dns:\n  rateLimit:\n    responsesPerSecond: 20\n    exempt: [10.1.2.0/16]\n",
            line: 4,
            message: "dns.rateLimit.exempt[0]: \"10.1.2.0/16\": host bits are set"
        ),
        BrokenCase(
            name: "rate limit window in fractions",
            yaml: "dns:\n  rateLimit: { responsesPerSecond: 20, window: 1500ms }\n",
            line: 2,
            message: "dns.rateLimit.window: must be whole seconds from 1s to 15s"
        ),
        BrokenCase(
            name: "rate limit key misspelt",
            yaml: "dns:\n  rateLimit: { responsePerSecond: 20 }\n",
            line: 2,
            message: "responsesPerSecond"
        ),
        BrokenCase(
            name: "cookie rotation under an hour",
            yaml: "dns:\n  cookies: { enabled: true, rotation: 10m }\n",
            line: 2,
            message: "dns.cookies.rotation: must be at least 1h"
        ),
        BrokenCase(
            name: "cookie secret file missing",
            yaml: "dns:\n  cookies: { enabled: true, secretFile: cookie.secret }\n",
            line: 2,
            message: "dns.cookies.secretFile: <dir>/cookie.secret does not exist"
        ),
        BrokenCase(
            name: "transfer without allowed prefixes",
            yaml: "transfer:\n  notify: [\"127.0.0.1:5301\"]\n",
            line: 1,
            message: "transfer.allow: lists no client prefix"
        ),
        BrokenCase(
            name: "transfer key with an unknown algorithm",
            yaml: "transfer:\n  allow: [127.0.0.1/32]\n  keys:\n    - { name: k, algorithm: hmac-md5, secretFile: mcdns.yaml }\n",
            line: 4,
            message: "transfer.keys[0].algorithm: \"hmac-md5\" is not supported: use hmac-sha256 or hmac-sha512"
        ),
        BrokenCase(
            name: "transfer key secret file missing",
            yaml: "transfer:\n  allow: [127.0.0.1/32]\n  keys:\n    - { name: k, secretFile: xfr.key }\n",
            line: 4,
            message: "transfer.keys[0].secretFile: <dir>/xfr.key does not exist"
        ),
        BrokenCase(
            name: "transfer requires TSIG without keys",
            yaml: "transfer:\n  allow: [127.0.0.1/32]\n  requireTSIG: true\n",
            line: 3,
            message: "transfer.requireTSIG: is true but transfer.keys is empty"
        ),
        BrokenCase(
            name: "transfer notify key not among the keys",
            yaml: "transfer:\n  allow: [127.0.0.1/32]\n  notifyKey: nobody\n",
            line: 3,
            message: "transfer.notifyKey: \"nobody\" is not one of transfer.keys (none)"
        ),
        BrokenCase(
            name: "transfer notify target with port 0",
            yaml: "transfer:\n  allow: [127.0.0.1/32]\n  notify: [\"127.0.0.1:0\"]\n",
            line: 3,
            message: "transfer.notify[0]: 127.0.0.1:0: a secondary's port cannot be 0"
        ),
        BrokenCase(
            name: "YAML syntax error",
            yaml: "listen:\n  dns: [\"127.0.0.1:53\"\nttl: {}\n",
            line: 3,
            message: "YAML syntax:"
        ),
        BrokenCase(
            name: "bad indentation",
            yaml: "listen:\n  dns: []\n admin: x\n",
            line: 3,
            message: "YAML syntax:"
        ),
        BrokenCase(
            name: "duplicate key",
            yaml: "ttl: {}\nzonesDir: zones\nzonesDir: zones\n",
            line: 2,
            message: "duplicate key \"zonesDir\""
        ),
        BrokenCase(
            name: "document that is not a mapping",
            yaml: "- a\n- b\n",
            line: 1,
            message: "expected a mapping with keys listen, zonesDir"
        ),
    ]

    @Test(arguments: brokenCases)
    func brokenConfigNamesFileAndLine(_ broken: BrokenCase) throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        let file = try dir.write("mcdns.yaml", broken.yaml)
        let error = #expect(throws: ConfigurationError.self) { try Configuration.load(file: file) }
        let errors = error?.errors ?? []
        let expected = broken.message.replacingOccurrences(of: "<dir>", with: dir.path)
        let match = errors.first { $0.message.contains(expected) }
        #expect(
            match != nil,
            "no error contains \(expected); got:\n\(errors.map(\.description).joined(separator: "\n"))"
        )
        #expect(match?.file == file)
        #expect(match?.line == broken.line, "\(match?.description ?? "")")
        #expect(match.map { $0.description.hasPrefix("\(file):\(broken.line ?? 0): ") } == true)
    }

    @Test func rateLimitAndCookiesAreRead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        _ = try dir.write("cookie.secret", "# rolled on Monday\ne5e973e5a6b2a43f48e7dc849e37bfcf\nDD3BDF9344B678B185A6F5CB60FCA715\n")
        let file = try dir.write("mcdns.yaml", """
            dns:
              rateLimit:
                responsesPerSecond: 20
                nxdomainsPerSecond: 5
                errorsPerSecond: 0
                slip: 1
                window: 2s
                ipv4PrefixLength: 28
                ipv6PrefixLength: 64
                exempt: [10.0.0.0/8, "fd00::/8"]
                tableSize: 4096
              cookies: { enabled: true, secretFile: cookie.secret, rotation: 2h }
            """)
        let configuration = try Configuration.load(file: file)
        let rateLimit = configuration.dns.rateLimit
        // answer, nodata, nxdomain, referral, wildcard, error
        #expect(rateLimit.rates == [20, 20, 5, 20, 20, 0])
        #expect(rateLimit.slip == 1)
        #expect(rateLimit.windowSeconds == 2)
        #expect(rateLimit.ipv4PrefixLength == 28 && rateLimit.ipv6PrefixLength == 64)
        #expect(rateLimit.exempt.map(\.description) == ["10.0.0.0/8", "fd00::/8"])
        #expect(rateLimit.tableSize == 4096)
        #expect(configuration.dns.cookies.enabled)
        #expect(configuration.dns.cookies.secretFile == "\(dir.path)/cookie.secret")
        #expect(configuration.dns.cookies.rotation == .seconds(7200))
        #expect(try MCDNSDaemon.cookieKeyring(configuration) != nil)
    }

    @Test func transferIsReadWithItsKeys() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        _ = try dir.write("xfr.key", "qBvKXUpo4zNzOThnIV28KTuR5Ms5Pw7XWCnu0K4dNtY=\n")
        let file = try dir.write("mcdns.yaml", """
            transfer:
              zones: [example.com]
              allow: [127.0.0.1/32, "fd00::/8"]
              keys:
                - { name: xfr-key, algorithm: hmac-sha512, secretFile: xfr.key }
              notify: ["127.0.0.1:5301", "[::1]:5302"]
              maxConcurrentTransfers: 2
              notifyRetry: 500ms
            """)
        let configuration = try Configuration.load(file: file)
        let transfer = try #require(configuration.transfer)
        #expect(transfer.zones?.map(\.description) == ["example.com."])
        #expect(transfer.allow.map(\.description) == ["127.0.0.1", "fd00::/8"])  // a whole-address prefix prints bare
        #expect(transfer.requireTSIG)
        #expect(transfer.notifyKey?.description == "xfr-key.")
        let served = try #require(try configuration.zoneTransferConfiguration())
        #expect(served.keys.first?.secret.count == 32)
        #expect(served.keys.first?.algorithm == .hmacSHA512)
        #expect(served.notifyKey?.name.description == "xfr-key.")
        #expect(served.notify.map(\.description) == ["127.0.0.1:5301", "[::1]:5302"])
        #expect(served.maxConcurrentTransfers == 2 && served.notifyRetry == .milliseconds(500))
        #expect(configuration.transferZoneProblems(served: [try DomainName("example.com")]).isEmpty)
        let problems = configuration.transferZoneProblems(served: [try DomainName("clusterset.local")])
        #expect(problems.map(\.message) == ["transfer.zones: example.com. is not a served zone (served: clusterset.local.)"])
    }

    @Test func aTransferSecretThatIsNoBase64IsRefusedWithoutShowingIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        _ = try dir.write("xfr.key", "not base64 but private!\n")
        let file = try dir.write("mcdns.yaml", """
            transfer: { allow: [127.0.0.1/32], keys: [ { name: k, secretFile: xfr.key } ] }
            """)
        let error = #expect(throws: ConfigurationError.self) { try Configuration.load(file: file) }
        let text = error?.errors.map(\.description).joined(separator: "\n") ?? ""
        #expect(text.contains("xfr.key is not a base64 secret: write one, e.g. the output of `openssl rand -base64 32`"))
        #expect(!text.contains("private"))
    }

    @Test func aCookieSecretFileThatIsNoSecretIsRefusedWithoutShowingIt() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        _ = try dir.write("cookie.secret", "not-a-secret-but-private\n")
        let file = try dir.write("mcdns.yaml", "dns:\n  cookies: { enabled: true, secretFile: cookie.secret }\n")
        let error = #expect(throws: ConfigurationError.self) { try Configuration.load(file: file) }
        let text = error?.errors.map(\.description).joined(separator: "\n") ?? ""
        #expect(text.contains("line 1 is not a secret: write 32 hex digits"))
        #expect(!text.contains("not-a-secret-but-private"))
    }

    @Test func everyProblemIsReportedNotJustTheFirst() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        let file = try dir.write(
            "mcdns.yaml",
            """
            listen: { dns: ["127.0.0.1"] }
            ttl: { record: x }
            staleGracePeriod: soon
            clusters:
              - name: a
                source: { inCluster: true }
              - name: a
                source: { inCluster: true }
            """
        )
        let error = #expect(throws: ConfigurationError.self) { try Configuration.load(file: file) }
        #expect(error?.errors.map(\.line) == [1, 2, 3, 7])
        #expect(error?.description.split(separator: "\n").count == 4)
    }

    @Test func missingDefaultZonesDirectoryIsNamedAsTheDefault() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let file = try dir.write("mcdns.yaml", "ttl: { record: 60 }\n")
        let error = #expect(throws: ConfigurationError.self) { try Configuration.load(file: file) }
        #expect(
            error?.errors.map(\.description) == [
                "\(file):1: zonesDir (default \"zones\"): \(dir.path)/zones does not exist"
            ]
        )
    }

    @Test func unreadableFileIsAnErrorNamingIt() {
        let error = #expect(throws: ConfigurationError.self) {
            try Configuration.load(file: "/nonexistent/mcdns.yaml")
        }
        #expect(error?.errors.first?.file == "/nonexistent/mcdns.yaml")
        #expect(error?.errors.first?.message.hasPrefix("cannot read") == true)
    }
}
