public import DNSAnswer
public import DNSServer
public import DNSWire
import Foundation
import Yams

extension Configuration {
    /// `transfer` (default: absent, no zone transfer and no NOTIFY): mcdns as the hidden primary of standard
    /// secondaries (Knot, NSD, BIND) that take its zones by AXFR and hear of changes by NOTIFY.
    public struct Transfer: Sendable, Equatable {
        /// `transfer.zones` (default: every served zone): the zones secondaries may transfer and are notified of.
        public var zones: [DomainName]? = nil
        /// `transfer.allow` (required, at least one): client prefixes (`127.0.0.1/32`, `10.0.0.0/8`) allowed to
        /// transfer. Requests from anywhere else are REFUSED.
        public var allow: [IPNetwork] = []
        /// `transfer.keys` (default none): TSIG keys, each `{ name, algorithm, secretFile }`.
        public var keys: [Key] = []
        /// `transfer.requireTSIG` (default true when keys are set, else false): unsigned requests get NOTAUTH.
        public var requireTSIG = false
        /// `transfer.notify` (default none): secondaries (`HOST:PORT`, address literals) sent NOTIFY on each new
        /// serial of a transferred zone.
        public var notify: [ListenAddress] = []
        /// `transfer.notifyKey` (default: the only key when exactly one is set, else none): the key NOTIFY is
        /// signed with.
        public var notifyKey: DomainName? = nil
        /// `transfer.maxConcurrentTransfers` (default 4, 1 to 1024): transfers served at once; one more is REFUSED.
        public var maxConcurrentTransfers = 4
        /// `transfer.journalLength` (default 64, 0 to 100000): the differences kept per zone with live names for
        /// IXFR; a client whose serial is older (or any client after a restart: the journal is not persisted)
        /// gets the whole zone. 0: IXFR is always answered in full.
        public var journalLength = 64
        /// `transfer.notifyRetry` (default `1s`): the first wait before an unanswered NOTIFY is sent again; each
        /// next wait doubles, up to `transfer.notifyMaxInterval` (default `60s`).
        public var notifyRetry: Duration = .seconds(1)
        public var notifyMaxInterval: Duration = .seconds(60)

        public init() {}

        /// One entry of `transfer.keys`.
        public struct Key: Sendable, Equatable {
            /// `name`: the key's name, as the secondaries spell it (`xfr-key`, `transfer.example.com`).
            public var name: DomainName
            /// `algorithm` (default `hmac-sha256`): `hmac-sha256` or `hmac-sha512`.
            public var algorithm: TSIGAlgorithm
            /// `secretFile`: a file holding the secret in base64 (`openssl rand -base64 32`, or the `secret` of
            /// `keymgr -t NAME` / `tsig-keygen`), nothing else but surrounding whitespace.
            public var secretFile: String
        }
    }

    static let transferKeys = [
        "zones", "allow", "keys", "requireTSIG", "notify", "notifyKey", "maxConcurrentTransfers", "notifyRetry",
        "notifyMaxInterval", "journalLength",
    ]

    static func readTransfer(_ fields: YAMLFields, reader: inout ConfigurationReader) -> Transfer {
        var transfer = Transfer()
        if fields.isSet("zones"), let items = reader.list(fields, "zones") {
            var zones: [DomainName] = []
            for item in items {
                guard let text = reader.text(item.node, path: item.path) else { continue }
                do {
                    zones.append(try DomainName(text))
                } catch {
                    reader.fail(item.node.mark?.line, item.path, error.description)
                }
            }
            transfer.zones = zones
        }
        for item in reader.list(fields, "allow") ?? [] {
            guard let text = reader.text(item.node, path: item.path) else { continue }
            switch CIDRText.parse(text) {
            case .success(let network): transfer.allow.append(network)
            case .failure(let error): reader.fail(item.node.mark?.line, item.path, error.description)
            }
        }
        if transfer.allow.isEmpty {
            reader.fail(
                fields.line(of: "allow"),
                fields.path("allow"),
                "lists no client prefix: name the secondaries' addresses, e.g. [127.0.0.1/32, 10.0.0.0/8]"
            )
        }
        for item in reader.list(fields, "keys") ?? [] {
            guard
                let key = reader.fields(
                    item.node,
                    path: item.path,
                    line: item.node.mark?.line,
                    allowed: ["name", "algorithm", "secretFile"]
                )
            else { continue }
            let name = reader.string(key, "name").flatMap { text -> DomainName? in
                do throws(WireError) { return try DomainName(text) } catch {
                    reader.fail(key.line(of: "name"), key.path("name"), error.description)
                    return nil
                }
            }
            var algorithm = TSIGAlgorithm.hmacSHA256
            if let text = reader.string(key, "algorithm") {
                if let known = TSIGAlgorithm(rawValue: text.lowercased()) {
                    algorithm = known
                } else {
                    reader.fail(
                        key.line(of: "algorithm"),
                        key.path("algorithm"),
                        "\"\(text)\" is not supported: use hmac-sha256 or hmac-sha512"
                    )
                }
            }
            let file = reader.path(key, "secretFile", mustExist: .file)
            for field in ["name", "secretFile"] where !key.isSet(field) {
                reader.fail(key.line, key.path(field), "is required for a TSIG key")
            }
            if let file, FileSystem.kind(of: file) == .file, case .failure(let problem) = readSecret(file) {
                reader.fail(key.line(of: "secretFile"), key.path("secretFile"), problem.description)
            }
            guard let name, let file else { continue }
            if transfer.keys.contains(where: { $0.name == name }) {
                reader.fail(key.line(of: "name"), key.path("name"), "key \(name) is listed twice")
                continue
            }
            transfer.keys.append(Transfer.Key(name: name, algorithm: algorithm, secretFile: file))
        }
        transfer.requireTSIG = !transfer.keys.isEmpty
        if let require = reader.bool(fields, "requireTSIG") { transfer.requireTSIG = require }
        if transfer.requireTSIG && transfer.keys.isEmpty {
            reader.fail(
                fields.line(of: "requireTSIG"),
                fields.path("requireTSIG"),
                "is true but transfer.keys is empty: add a key, or set requireTSIG: false"
            )
        }
        for item in reader.list(fields, "notify") ?? [] {
            if let address = reader.listenAddress(item.node, path: item.path) {
                if address.port == 0 {
                    reader.fail(item.node.mark?.line, item.path, "\(address): a secondary's port cannot be 0")
                } else {
                    transfer.notify.append(address)
                }
            }
        }
        if let text = reader.string(fields, "notifyKey") {
            let name = try? DomainName(text)
            if let name, transfer.keys.contains(where: { $0.name == name }) {
                transfer.notifyKey = name
            } else {
                let known = transfer.keys.map(\.name.description).joined(separator: ", ")
                reader.fail(
                    fields.line(of: "notifyKey"),
                    fields.path("notifyKey"),
                    "\"\(text)\" is not one of transfer.keys (\(known.isEmpty ? "none" : known))"
                )
            }
        } else if transfer.keys.count == 1 {
            transfer.notifyKey = transfer.keys[0].name
        }
        if let value = reader.int(fields, "journalLength", in: 0...100_000) { transfer.journalLength = value }
        if let value = reader.int(fields, "maxConcurrentTransfers", in: 1...1024) {
            transfer.maxConcurrentTransfers = value
        }
        for key in ["notifyRetry", "notifyMaxInterval"] {
            guard let value = reader.duration(fields, key) else { continue }
            guard value >= .milliseconds(10), value <= .seconds(3600) else {
                reader.fail(fields.line(of: key), fields.path(key), "must be from 10ms to 1h")
                continue
            }
            if key == "notifyRetry" { transfer.notifyRetry = value } else { transfer.notifyMaxInterval = value }
        }
        return transfer
    }

    /// `transfer.zones` naming a zone no zone file serves (checked once the zone files are read).
    public func transferZoneProblems(served: [DomainName]) -> [SourceError] {
        guard let zones = transfer?.zones else { return [] }
        let known = served.map(\.description).sorted().joined(separator: ", ")
        return zones.filter { !served.contains($0) }.map { zone in
            SourceError(
                file: file,
                line: nil,
                message: "transfer.zones: \(zone) is not a served zone (served: \(known.isEmpty ? "none" : known))"
            )
        }
    }

    /// A TSIG secret file: base64, surrounding whitespace ignored.
    static func readSecret(_ path: String) -> Result<[UInt8], SecretProblem> {
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            return .failure(SecretProblem("\(path) cannot be read: \(error.localizedDescription)"))
        }
        guard let secret = TSIGKey.secret(base64: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return .failure(
                SecretProblem("\(path) is not a base64 secret: write one, e.g. the output of `openssl rand -base64 32`")
            )
        }
        guard secret.count >= 16 else {
            return .failure(
                SecretProblem(
                    "\(path) holds a \(secret.count)-byte secret; use at least 16 bytes (`openssl rand -base64 32`)"
                )
            )
        }
        return .success(secret)
    }

    /// What `DNSServer` serves transfers with: the `transfer:` section with its keys' secrets read. Nil without
    /// the section.
    public func zoneTransferConfiguration() throws(StartupError) -> ZoneTransferConfiguration? {
        guard let transfer else { return nil }
        var keys: [TSIGKey] = []
        for key in transfer.keys {
            switch Self.readSecret(key.secretFile) {
            case .success(let secret): keys.append(TSIGKey(name: key.name, algorithm: key.algorithm, secret: secret))
            case .failure(let problem):
                throw StartupError([
                    SourceError(file: file, line: nil, message: "transfer.keys: \(problem.description)")
                ])
            }
        }
        let notify = transfer.notify
        return ZoneTransferConfiguration(
            zones: transfer.zones,
            allow: transfer.allow,
            keys: keys,
            requireTSIG: transfer.requireTSIG,
            maxConcurrentTransfers: transfer.maxConcurrentTransfers,
            notify: notify,
            notifyKey: transfer.notifyKey.flatMap { name in keys.first { $0.name == name } },
            notifyRetry: transfer.notifyRetry,
            notifyMaxInterval: transfer.notifyMaxInterval
        )
    }
}

/// Why a TSIG secret file cannot be used: the message names the file and what to write in it.
struct SecretProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
