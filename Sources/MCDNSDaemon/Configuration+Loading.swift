import ClusterController
import DNSAnswer
import DNSServer
import Foundation
import DNSWire
import KubeClient
import MCDNSModel
import Yams

extension Configuration {
    static let rootKeys = [
        "listen", "zonesDir", "stateDir", "federation", "clusterset", "ttl", "locality", "staleGracePeriod",
        "export", "clusters", "tunnel", "host", "dns", "admin", "transfer",
    ]

    /// Reads and checks a configuration file. Every problem found is reported, each as `file:line: message`.
    public static func load(file: String) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            // Refused from its size before it is read (see YAMLBudget.configuration).
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            let limit = YAMLBudget.configuration.maxBytes
            guard size <= limit else {
                let message = "\(size) bytes is larger than the limit of \(limit) bytes"
                throw ConfigurationError([SourceError(file: file, line: nil, message: message)])
            }
            text = try FileSystem.readText(file)
        } catch {
            throw ConfigurationError([SourceError(file: file, line: nil, message: "cannot read: \(error)")])
        }
        return try parse(yaml: text, file: file)
    }

    /// Reads configuration text as if it came from `file` (which names errors and anchors relative paths).
    public static func parse(yaml: String, file: String) throws(ConfigurationError) -> Configuration {
        let root: Node?
        do throws(ManifestError) {
            // Size, depth and expanded aliases are bounded before Yams composes (and expands) the text.
            try YAMLBudget.configuration.check(yaml, file: file)
        } catch {
            throw ConfigurationError([SourceError(file: file, line: error.line, message: error.message)])
        }
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationError([syntaxError(error, yaml: yaml, file: file)])
        } catch {
            throw ConfigurationError([SourceError(file: file, line: nil, message: "YAML: \(error)")])
        }
        var reader = ConfigurationReader(file: file, directory: ConfigurationPath.directory(of: file))
        let configuration = read(root, reader: &reader)
        guard reader.errors.isEmpty else { throw ConfigurationError(reader.errors) }
        return configuration
    }

    /// A YAML syntax error at the line libyaml reports.
    static func syntaxError(_ error: YamlError, yaml: String, file: String) -> SourceError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let place = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return SourceError(file: file, line: mark.line, message: "YAML syntax: \(problem)\(place)")
        case .reader(let problem, let offset, _, _):
            let line = offset.map { yaml.prefix($0).reduce(1) { $1 == "\n" ? $0 + 1 : $0 } }
            return SourceError(file: file, line: line, message: "YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return SourceError(file: file, line: context.mark.line, message: "duplicate key \(keys) in one mapping")
        default:
            return SourceError(file: file, line: nil, message: "YAML: \(error)")
        }
    }

    // MARK: Sections

    private static func read(_ root: Node?, reader: inout ConfigurationReader) -> Configuration {
        var configuration = Configuration(file: reader.file, directory: reader.directory)
        guard let fields = reader.fields(root, path: "", line: 1, allowed: rootKeys) else { return configuration }

        if let listen = reader.fields(fields, "listen", allowed: ["dns", "admin"]) {
            readListen(listen, into: &configuration.listen, reader: &reader)
        }
        if let zones = reader.path(fields, "zonesDir") { configuration.zonesDir = zones }
        reader.checkExists(
            configuration.zonesDir,
            kind: .directory,
            line: fields.line(of: "zonesDir"),
            path: !fields.isSet("zonesDir") ? "zonesDir (default \"zones\")" : "zonesDir"
        )
        if let state = reader.path(fields, "stateDir") { configuration.stateDir = state }
        if fields.isSet("federation"),
            let federation = reader.fields(fields, "federation", allowed: ["name", "domain"])
        {
            configuration.federation = readFederation(federation, reader: &reader)
        }
        if let clusterset = reader.fields(fields, "clusterset", allowed: ["domain"]),
            let domain = reader.domainName(clusterset, "domain")
        {
            configuration.clusterset.domain = domain
        }
        if let ttl = reader.fields(fields, "ttl", allowed: ["record", "degraded", "negative"]) {
            // RFC 2181 §8: a TTL is at most 2^31 - 1.
            let range = 0...Int(Int32.max)
            if let value = reader.int(ttl, "record", in: range) { configuration.ttl.record = UInt32(value) }
            if let value = reader.int(ttl, "degraded", in: range) { configuration.ttl.degraded = UInt32(value) }
            if let value = reader.int(ttl, "negative", in: range) { configuration.ttl.negative = UInt32(value) }
        }
        if let grace = reader.duration(fields, "staleGracePeriod") { configuration.staleGracePeriod = grace }
        if let export = reader.fields(fields, "export", allowed: ["annotation", "serviceExport", "namespaces"]) {
            readExport(export, into: &configuration.export, reader: &reader)
        }
        if let dns = reader.fields(
            fields,
            "dns",
            allowed: [
                "maxUDPPayload", "rotate", "tcpIdleTimeout", "tcpMessageTimeout", "maxTCPConnections",
                "maxTCPConnectionsPerSource", "maxTCPPipelined", "udpThreadsPerAddress", "rateLimit", "cookies",
            ]
        ) {
            readDNS(dns, into: &configuration.dns, reader: &reader)
        }
        if let admin = reader.fields(
            fields,
            "admin",
            allowed: ["tokenFile", "requireToken", "maxConnections", "idleTimeout", "requestTimeout"]
        ) {
            if let file = reader.path(admin, "tokenFile", mustExist: .file) { configuration.admin.tokenFile = file }
            if let require = reader.bool(admin, "requireToken") { configuration.admin.requireToken = require }
            if let count = reader.int(admin, "maxConnections", in: 1...65536) {
                configuration.admin.maxConnections = count
            }
            for key in ["idleTimeout", "requestTimeout"] {
                guard let value = reader.duration(admin, key) else { continue }
                guard value >= .milliseconds(10) else {
                    reader.fail(admin[key]?.mark?.line, admin.path(key), "must be at least 10ms")
                    continue
                }
                if key == "idleTimeout" {
                    configuration.admin.idleTimeout = value
                } else {
                    configuration.admin.requestTimeout = value
                }
            }
            if configuration.admin.requireToken && configuration.admin.tokenFile == nil {
                reader.fail(admin.line(of: "requireToken"), admin.path("requireToken"),
                            "is true but admin.tokenFile is not set: name the file holding the bearer token")
            }
        }
        if !configuration.listen.admin.isLoopback && configuration.admin.tokenFile == nil {
            reader.fail(fields.line(of: "listen"), "listen.admin",
                        "\(configuration.listen.admin) is beyond loopback: set admin.tokenFile (a file holding the "
                            + "bearer token clients must send), or listen on 127.0.0.1")
        }
        // Clusters come before the sections that refer to them by name.
        configuration.clusters = readClusters(fields, reader: &reader)
        let names = Set(configuration.clusters.map(\.name))
        if let locality = reader.fields(fields, "locality", allowed: ["policy", "requesters"]) {
            readLocality(locality, clusters: names, into: &configuration.locality, reader: &reader)
        }
        if fields.isSet("tunnel"),
            let tunnel = reader.fields(fields, "tunnel", allowed: ["listen", "tls", "clusters"])
        {
            configuration.tunnel = readTunnel(tunnel, clusters: names, reader: &reader)
        }
        if fields.isSet("host"),
            let host = reader.fields(
                fields, "host",
                allowed: [
                    "kubeconfig", "context", "inCluster", "namespace", "leaseDuration", "renewDeadline", "retryPeriod",
                    "statusResync",
                ]
            )
        {
            configuration.host = readHost(host, reader: &reader)
        }
        if fields.isSet("transfer"), let transfer = reader.fields(fields, "transfer", allowed: transferKeys) {
            configuration.transfer = readTransfer(transfer, reader: &reader)
        }
        return configuration
    }

    private static func readListen(_ fields: YAMLFields, into listen: inout Listen, reader: inout ConfigurationReader) {
        if fields.isSet("dns"), let items = reader.list(fields, "dns") {
            var addresses: [ListenAddress] = []
            var lines: [ListenAddress: Int] = [:]
            for item in items {
                guard let address = reader.listenAddress(item.node, path: item.path) else { continue }
                if let first = lines[address] {
                    reader.fail(item.node.mark?.line, item.path, "\(address) is listed twice (first at line \(first))")
                    continue
                }
                lines[address] = item.node.mark?.line ?? 0
                addresses.append(address)
            }
            if items.isEmpty {
                reader.fail(fields.line(of: "dns"), fields.path("dns"), "is empty: mcdns would not serve DNS anywhere")
            }
            listen.dns = addresses
        }
        if let admin = reader.listenAddress(fields["admin"], path: fields.path("admin")) { listen.admin = admin }
    }

    private static func readFederation(_ fields: YAMLFields, reader: inout ConfigurationReader) -> Federation? {
        let name = reader.label(fields["name"], path: fields.path("name"))
        let domain = reader.domainName(fields, "domain")
        for key in ["name", "domain"] where !fields.isSet(key) {
            reader.fail(fields.line, fields.path(key), "is required when federation is set")
        }
        guard let name, let domain else { return nil }
        return Federation(name: name, domain: domain)
    }

    private static func readExport(_ fields: YAMLFields, into export: inout Export, reader: inout ConfigurationReader) {
        if let annotation = reader.string(fields, "annotation") {
            // The Kubernetes decoder keeps only mcdns.io/ annotations (slim cached objects), so another
            // prefix could never match.
            let prefix = KubeObjectMeta.annotationPrefix
            if !annotation.hasPrefix(prefix) || annotation.count <= prefix.count
                || annotation.contains(where: \.isWhitespace)
            {
                reader.fail(
                    fields["annotation"]?.mark?.line,
                    fields.path("annotation"),
                    "\"\(annotation)\" must be a \(prefix)NAME annotation without spaces (only those are read from "
                        + "Services), for example mcdns.io/export"
                )
            }
            export.annotation = annotation
        }
        if let serviceExport = reader.bool(fields, "serviceExport") { export.serviceExport = serviceExport }
        if let namespaces = reader.stringList(fields, "namespaces", labels: true) { export.namespaces = namespaces }
    }

    private static func readDNS(_ fields: YAMLFields, into dns: inout DNS, reader: inout ConfigurationReader) {
        // 512 is the classic limit every client accepts; 65507 the largest payload of an IPv4 datagram.
        if let payload = reader.int(fields, "maxUDPPayload", in: 512...65507) { dns.maxUDPPayload = payload }
        if let rotate = reader.bool(fields, "rotate") { dns.rotate = rotate }
        if let idle = reader.duration(fields, "tcpIdleTimeout") {
            if idle <= .zero {
                reader.fail(fields["tcpIdleTimeout"]?.mark?.line, fields.path("tcpIdleTimeout"), "must be above 0")
            }
            dns.tcpIdleTimeout = idle
        }
        if let message = reader.duration(fields, "tcpMessageTimeout") {
            if message <= .zero {
                reader.fail(fields["tcpMessageTimeout"]?.mark?.line, fields.path("tcpMessageTimeout"), "must be above 0")
            }
            dns.tcpMessageTimeout = message
        }
        if let value = reader.int(fields, "maxTCPConnections", in: 1...1_000_000) { dns.maxTCPConnections = value }
        if let value = reader.int(fields, "maxTCPConnectionsPerSource", in: 1...1_000_000) {
            dns.maxTCPConnectionsPerSource = value
        }
        if let value = reader.int(fields, "maxTCPPipelined", in: 1...65535) { dns.maxTCPPipelined = value }
        if let threads = reader.int(fields, "udpThreadsPerAddress", in: 0...1024) { dns.udpThreadsPerAddress = threads }
        if let rateLimit = reader.fields(fields, "rateLimit", allowed: [
            "responsesPerSecond", "nxdomainsPerSecond", "nodataPerSecond", "referralsPerSecond", "errorsPerSecond",
            "slip", "window", "ipv4PrefixLength", "ipv6PrefixLength", "exempt", "tableSize",
        ]) {
            readRateLimit(rateLimit, into: &dns.rateLimit, reader: &reader)
        }
        if let cookies = reader.fields(fields, "cookies", allowed: ["enabled", "secretFile", "rotation"]) {
            if let enabled = reader.bool(cookies, "enabled") { dns.cookies.enabled = enabled }
            if let file = reader.path(cookies, "secretFile", mustExist: .file) {
                dns.cookies.secretFile = file
                if FileSystem.kind(of: file) == .file, case .failure(let error) = CookieSecretFile.read(file) {
                    reader.fail(cookies["secretFile"]?.mark?.line, cookies.path("secretFile"), error.description)
                }
            }
            if let rotation = reader.duration(cookies, "rotation") {
                // Whole seconds from 1 hour (a cookie's lifetime, RFC 9018 §4.3) up.
                if rotation < .seconds(3600) || rotation > .seconds(Int64(UInt32.max)) {
                    reader.fail(cookies["rotation"]?.mark?.line, cookies.path("rotation"),
                                "must be at least 1h (a server cookie lives an hour)")
                } else {
                    dns.cookies.rotation = rotation
                }
            }
        }
    }

    private static func readRateLimit(_ fields: YAMLFields, into rateLimit: inout RateLimitConfiguration,
                                      reader: inout ConfigurationReader) {
        let maxRate = RateLimitConfiguration.maxRate
        let responses = reader.int(fields, "responsesPerSecond", in: 0...maxRate) ?? 0
        let nxdomains = reader.int(fields, "nxdomainsPerSecond", in: 0...maxRate)
        let nodata = reader.int(fields, "nodataPerSecond", in: 0...maxRate)
        let referrals = reader.int(fields, "referralsPerSecond", in: 0...maxRate)
        let errors = reader.int(fields, "errorsPerSecond", in: 0...maxRate)
        let slip = reader.int(fields, "slip", in: 0...10) ?? RateLimitConfiguration.defaultSlip
        var window = RateLimitConfiguration.defaultWindowSeconds
        if let duration = reader.duration(fields, "window") {
            let seconds = duration.components.seconds
            if duration.components.attoseconds != 0 || !(1...Int64(RateLimitConfiguration.maxWindowSeconds)).contains(seconds) {
                reader.fail(fields["window"]?.mark?.line, fields.path("window"),
                            "must be whole seconds from 1s to \(RateLimitConfiguration.maxWindowSeconds)s")
            } else {
                window = Int(seconds)
            }
        }
        let ipv4 = reader.int(fields, "ipv4PrefixLength", in: 1...32) ?? 24
        let ipv6 = reader.int(fields, "ipv6PrefixLength", in: 1...128) ?? 56
        let tableSize = reader.int(fields, "tableSize", in: 1...(1 << 24)) ?? RateLimitConfiguration.defaultTableSize
        var exempt: [IPNetwork] = []
        for item in reader.list(fields, "exempt") ?? [] {
            guard let text = reader.text(item.node, path: item.path) else { continue }
            switch CIDRText.parse(text) {
            case .success(let network): exempt.append(network)
            case .failure(let error): reader.fail(item.node.mark?.line, item.path, error.description)
            }
        }
        do {
            rateLimit = try RateLimitConfiguration(
                responsesPerSecond: responses, nxdomainsPerSecond: nxdomains, nodataPerSecond: nodata,
                referralsPerSecond: referrals, errorsPerSecond: errors, slip: slip, windowSeconds: window,
                ipv4PrefixLength: ipv4, ipv6PrefixLength: ipv6, exempt: exempt, tableSize: tableSize)
        } catch {
            reader.fail(fields.line, fields.path, error.description)
        }
    }

    private static func readLocality(
        _ fields: YAMLFields,
        clusters: Set<ClusterID>,
        into locality: inout Locality,
        reader: inout ConfigurationReader
    ) {
        if fields.isSet("policy"), let items = reader.list(fields, "policy") {
            var policy: [LocalityLevel] = []
            for item in items {
                guard let text = reader.text(item.node, path: item.path) else { continue }
                guard let level = LocalityLevel(rawValue: text) else {
                    let allowed = LocalityLevel.allCases.map(\.rawValue).joined(separator: ", ")
                    reader.fail(
                        item.node.mark?.line,
                        item.path,
                        "unknown level \"\(text)\"; expected one of: \(allowed)"
                    )
                    continue
                }
                if policy.contains(level) {
                    reader.fail(item.node.mark?.line, item.path, "\"\(text)\" is listed twice")
                    continue
                }
                policy.append(level)
            }
            if items.isEmpty {
                reader.fail(fields.line(of: "policy"), fields.path("policy"), "must name at least one level")
            }
            locality.policy = policy
        }
        guard let requesters = reader.fields(fields, "requesters", allowed: ["ednsLocalOption", "subnets"]) else {
            return
        }
        // Option code 0 is reserved (RFC 6891 §9).
        if let option = reader.int(requesters, "ednsLocalOption", in: 1...65535) {
            locality.requesters.ednsLocalOption = UInt16(option)
        }
        for item in reader.list(requesters, "subnets") ?? [] {
            guard
                let subnet = reader.fields(
                    item.node,
                    path: item.path,
                    line: item.node.mark?.line,
                    allowed: ["cidr", "cluster"]
                )
            else { continue }
            var cidr: IPNetwork?
            if let text = reader.text(subnet["cidr"], path: subnet.path("cidr")) {
                switch CIDRText.parse(text) {
                case .success(let value): cidr = value
                case .failure(let error):
                    reader.fail(subnet["cidr"]?.mark?.line, subnet.path("cidr"), error.description)
                }
            }
            let cluster = reader.label(subnet["cluster"], path: subnet.path("cluster")).map { ClusterID($0) }
            if let cluster, !clusters.contains(cluster) {
                reader.fail(subnet["cluster"]?.mark?.line, subnet.path("cluster"), unknownCluster(cluster, clusters))
            }
            for key in ["cidr", "cluster"] where !subnet.isSet(key) {
                reader.fail(subnet.line, subnet.path(key), "is required")
            }
            if let cidr, let cluster { locality.requesters.subnets.append(Subnet(cidr: cidr, cluster: cluster)) }
        }
    }

    private static func readClusters(_ fields: YAMLFields, reader: inout ConfigurationReader) -> [Cluster] {
        var clusters: [Cluster] = []
        var firstLine: [ClusterID: Int] = [:]
        for item in reader.list(fields, "clusters") ?? [] {
            guard
                let entry = reader.fields(
                    item.node,
                    path: item.path,
                    line: item.node.mark?.line,
                    allowed: ["name", "region", "zones", "source", "drain"]
                )
            else { continue }
            let name = reader.label(entry["name"], path: entry.path("name")).map { ClusterID($0) }
            if !entry.isSet("name") { reader.fail(entry.line, entry.path("name"), "is required") }
            if let name, let first = firstLine[name] {
                reader.fail(
                    entry["name"]?.mark?.line,
                    entry.path("name"),
                    "duplicate cluster name \"\(name)\" (first defined at line \(first))"
                )
            }
            let region = reader.label(entry["region"], path: entry.path("region"))
            let zones = reader.stringList(entry, "zones", labels: true) ?? []
            let source = readSource(entry, hasTunnel: fields.isSet("tunnel"), reader: &reader)
            let drain = reader.bool(entry, "drain") ?? false
            guard let name, let source, firstLine[name] == nil else { continue }
            firstLine[name] = entry["name"]?.mark?.line ?? 0
            clusters.append(Cluster(name: name, region: region, zones: zones, source: source, drain: drain))
        }
        return clusters
    }

    private static func readSource(
        _ cluster: YAMLFields,
        hasTunnel: Bool,
        reader: inout ConfigurationReader
    ) -> ClusterSource? {
        let kinds = ["kubeconfig", "tunnel", "manifests", "inCluster"]
        guard let fields = reader.fields(cluster, "source", allowed: kinds + ["context"]) else { return nil }
        // `tunnel:` with nothing after it reads naturally as "a tunnel source", so presence is enough there.
        let present = kinds.filter { $0 == "tunnel" ? fields.entries[$0] != nil : fields.isSet($0) }
        guard present.count == 1, let kind = present.first else {
            let line = cluster.line(of: "source")
            let message =
                present.isEmpty
                ? "is required: one of { kubeconfig: FILE, context: NAME }, { tunnel: {} }, { manifests: DIR }, "
                    + "{ inCluster: true }"
                : "has \(present.joined(separator: " and ")); give exactly one"
            reader.fail(line, fields.path, message)
            return nil
        }
        if kind != "kubeconfig", fields.isSet("context") {
            reader.fail(fields.line(of: "context"), fields.path("context"), "only applies to a kubeconfig source")
        }
        switch kind {
        case "kubeconfig":
            guard let path = reader.path(fields, "kubeconfig", mustExist: .file) else { return nil }
            return .kubeconfig(path: path, context: reader.string(fields, "context"))
        case "tunnel":
            // `tunnel: {}` has no settings today; the mapping leaves room for some without a format change.
            _ = reader.fields(fields, "tunnel", allowed: [])
            if !hasTunnel {
                reader.fail(
                    fields.line(of: "tunnel"),
                    fields.path("tunnel"),
                    "needs a top-level tunnel section (listen, tls) for the member's agent to dial"
                )
            }
            return .tunnel
        case "manifests":
            guard let path = reader.path(fields, "manifests", mustExist: .directory) else { return nil }
            return .manifests(directory: path)
        default:
            guard let inCluster = reader.bool(fields, "inCluster") else { return nil }
            guard inCluster else {
                reader.fail(fields.line(of: "inCluster"), fields.path("inCluster"), "false is not a source; remove it")
                return nil
            }
            return .inCluster
        }
    }

    private static func readTunnel(
        _ fields: YAMLFields,
        clusters: Set<ClusterID>,
        reader: inout ConfigurationReader
    ) -> Tunnel? {
        var listen = ListenAddress(ipv4: 0, 0, 0, 0, port: 8443)
        if let address = reader.listenAddress(fields["listen"], path: fields.path("listen")) { listen = address }
        var tls: TLS?
        if !fields.isSet("tls") {
            reader.fail(fields.line, fields.path("tls"), "is required: { cert: FILE, key: FILE }")
        } else if let tlsFields = reader.fields(fields, "tls", allowed: ["cert", "key", "clientCA"]) {
            let cert = reader.path(tlsFields, "cert", mustExist: .file)
            let key = reader.path(tlsFields, "key", mustExist: .file)
            let clientCA = tlsFields.isSet("clientCA") ? reader.path(tlsFields, "clientCA", mustExist: .file) : nil
            for name in ["cert", "key"] where !tlsFields.isSet(name) {
                reader.fail(tlsFields.line, tlsFields.path(name), "is required")
            }
            if let cert, let key { tls = TLS(certificate: cert, key: key, clientCA: clientCA) }
        }
        var clients: [ClusterID: TunnelClient] = [:]
        if let map = fields["clusters"], !ConfigurationReader.isNull(map) {
            if case .mapping(let mapping) = map {
                for (key, value) in mapping {
                    let path = fields.path("clusters")
                    guard let label = reader.label(key, path: path) else { continue }
                    let name = ClusterID(label)
                    if !clusters.contains(name) { reader.fail(key.mark?.line, path, unknownCluster(name, clusters)) }
                    guard
                        let client = reader.fields(
                            value,
                            path: "\(path).\(name)",
                            line: key.mark?.line,
                            allowed: ["tokenSHA256", "previousTokenSHA256"]
                        )
                    else { continue }
                    /// A SHA-256 in hex (lower-cased), or nil after reporting why not.
                    func digest(_ field: String) -> String? {
                        guard let token = reader.string(client, field) else { return nil }
                        let hex = token.lowercased()
                        guard hex.utf8.count == 64, hex.allSatisfy({ $0.isHexDigit }) else {
                            reader.fail(
                                client[field]?.mark?.line,
                                client.path(field),
                                "expected 64 hex digits (the SHA-256 of the token, e.g. `sha256sum token`), "
                                    + "found \(token.utf8.count) characters"
                            )
                            return nil
                        }
                        return hex
                    }
                    let previous = client.isSet("previousTokenSHA256") ? digest("previousTokenSHA256") : nil
                    let hex = client.isSet("tokenSHA256") ? digest("tokenSHA256") : nil
                    if client.isSet("tokenSHA256"), hex == nil { continue }
                    if hex == nil, tls?.clientCA == nil {
                        reader.fail(
                            client.line, client.path("tokenSHA256"),
                            "is required (or set tunnel.tls.clientCA so agents authenticate with client certificates)"
                        )
                        continue
                    }
                    clients[name] = TunnelClient(tokenSHA256: hex, previousTokenSHA256: previous)
                }
            } else {
                reader.fail(
                    map.mark?.line,
                    fields.path("clusters"),
                    "expected a mapping of cluster name to { tokenSHA256: HEX }, found \(ConfigurationReader.describe(map))"
                )
            }
        }
        guard let tls else { return nil }
        return Tunnel(listen: listen, tls: tls, clusters: clients)
    }

    private static func readHost(_ fields: YAMLFields, reader: inout ConfigurationReader) -> Host? {
        guard var host = readHostCredentials(fields, reader: &reader) else { return nil }
        if let value = reader.duration(fields, "leaseDuration") { host.leaseDuration = value }
        if let value = reader.duration(fields, "renewDeadline") { host.renewDeadline = value }
        if let value = reader.duration(fields, "retryPeriod") { host.retryPeriod = value }
        if let value = reader.duration(fields, "statusResync") { host.statusResync = value }
        // client-go's rules, checked here so `mcdns check` reports them with the file and line.
        let line = fields.isSet("renewDeadline") ? fields.line(of: "renewDeadline") : fields.line
        if host.leaseDuration <= host.renewDeadline {
            reader.fail(line, fields.path, "leaseDuration must be greater than renewDeadline")
        } else if host.renewDeadline <= host.retryPeriod * 1.2 {
            reader.fail(line, fields.path, "renewDeadline must be greater than 1.2 × retryPeriod")
        }
        return host
    }

    private static func readHostCredentials(_ fields: YAMLFields, reader: inout ConfigurationReader) -> Host? {
        let namespace = reader.label(fields["namespace"], path: fields.path("namespace")) ?? "mcdns-system"
        switch (fields.isSet("kubeconfig"), fields.isSet("inCluster")) {
        case (true, true):
            reader.fail(fields.line, fields.path, "has kubeconfig and inCluster; give exactly one")
            return nil
        case (false, false):
            reader.fail(fields.line, fields.path, "needs { kubeconfig: FILE, context: NAME } or { inCluster: true }")
            return nil
        case (true, false):
            guard let path = reader.path(fields, "kubeconfig", mustExist: .file) else { return nil }
            return Host(
                credentials: .kubeconfig(path: path, context: reader.string(fields, "context")),
                namespace: namespace
            )
        case (false, true):
            if fields.isSet("context") {
                reader.fail(fields.line(of: "context"), fields.path("context"), "only applies with kubeconfig")
            }
            guard let inCluster = reader.bool(fields, "inCluster") else { return nil }
            guard inCluster else {
                reader.fail(fields.line(of: "inCluster"), fields.path("inCluster"), "false is not a source; remove it")
                return nil
            }
            return Host(credentials: .inCluster, namespace: namespace)
        }
    }

    private static func unknownCluster(_ name: ClusterID, _ clusters: Set<ClusterID>) -> String {
        let known = clusters.map { $0.rawValue }.sorted()
        return "unknown cluster \"\(name)\"; configured: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
    }
}
