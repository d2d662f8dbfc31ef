import Foundation
import Yams

/// A kubeconfig file: clusters, users, contexts and the current context, as kubectl reads it.
///
/// Only what mcdns needs is read. Relative paths are resolved against the kubeconfig's directory (as kubectl
/// does). Anything mcdns cannot honour (an `auth-provider`, basic auth, a malformed field) is a `KubeConfigError`
/// naming the file and the field, never silently ignored.
public struct KubeConfig: Sendable, Equatable {
    public struct Cluster: Sendable, Equatable {
        public var server: String
        public var certificateAuthority: String?
        public var certificateAuthorityData: [UInt8]?
        public var insecureSkipTLSVerify: Bool
        public var tlsServerName: String?
    }

    public struct User: Sendable, Equatable {
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: [UInt8]?
        public var clientKey: String?
        public var clientKeyData: [UInt8]?
        public var exec: KubeExecConfig?
    }

    public struct Context: Sendable, Equatable {
        public var cluster: String
        public var user: String?
        public var namespace: String?
    }

    public var file: String
    public var clusters: [String: Cluster]
    public var users: [String: User]
    public var contexts: [String: Context]
    public var currentContext: String?

    /// Reads and parses a kubeconfig file.
    public static func load(path: String) throws(KubeConfigError) -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(file: path, field: "", message: "cannot read the file")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path)
    }

    /// Parses kubeconfig YAML; `file` names it in errors and anchors relative paths.
    public static func parse(_ yaml: String, file: String) throws(KubeConfigError) -> KubeConfig {
        let reader = Reader(file: file)
        let root: Any?
        do {
            root = try YAMLValues.load(yaml)
        } catch {
            throw reader.fail("", "not valid YAML: \(error)")
        }
        guard let top = root as? [String: Any] else { throw reader.fail("", "expected a YAML mapping (apiVersion: v1, kind: Config)") }
        let base = (file as NSString).deletingLastPathComponent

        var config = KubeConfig(file: file, clusters: [:], users: [:], contexts: [:], currentContext: nil)
        config.currentContext = try reader.string(top, "current-context", at: "")
        for (name, body, path) in try reader.namedList(top, "clusters", inner: "cluster") {
            let server = try reader.required(reader.string(body, "server", at: path), "server", at: path)
            config.clusters[name] = Cluster(
                server: server,
                certificateAuthority: try reader.string(body, "certificate-authority", at: path).map { Self.resolve($0, base) },
                certificateAuthorityData: try reader.base64(body, "certificate-authority-data", at: path),
                insecureSkipTLSVerify: try reader.bool(body, "insecure-skip-tls-verify", at: path) ?? false,
                tlsServerName: try reader.string(body, "tls-server-name", at: path)
            )
        }
        for (name, body, path) in try reader.namedList(top, "users", inner: "user") {
            if let provider = body["auth-provider"] {
                let providerName = (provider as? [String: Any])?["name"] as? String ?? "unnamed"
                throw reader.fail(
                    path + ".auth-provider",
                    "auth-provider \"\(providerName)\" is not supported (removed from client-go); "
                        + "use an exec credential plugin (for example gke-gcloud-auth-plugin or kubelogin)"
                )
            }
            if body["username"] != nil || body["password"] != nil {
                throw reader.fail(path + ".username", "basic authentication is not supported; use a token, a client certificate or exec")
            }
            var exec: KubeExecConfig? = nil
            if let execBody = body["exec"] {
                let execPath = path + ".exec"
                guard let execMap = execBody as? [String: Any] else { throw reader.fail(execPath, "expected a mapping") }
                let apiVersion = try reader.required(reader.string(execMap, "apiVersion", at: execPath), "apiVersion", at: execPath)
                guard KubeExecConfig.supportedVersions.contains(apiVersion) else {
                    throw reader.fail(
                        execPath + ".apiVersion",
                        "\"\(apiVersion)\" is not supported; use one of \(KubeExecConfig.supportedVersions.joined(separator: ", "))"
                    )
                }
                let command = try reader.required(reader.string(execMap, "command", at: execPath), "command", at: execPath)
                var env: [String: String] = [:]
                if let list = execMap["env"], !(list is NSNull) {
                    guard let entries = list as? [Any] else { throw reader.fail(execPath + ".env", "expected a list of {name, value}") }
                    for (index, entry) in entries.enumerated() {
                        guard let pair = entry as? [String: Any], let key = pair["name"] as? String,
                            let value = pair["value"] as? String
                        else { throw reader.fail("\(execPath).env[\(index)]", "expected {name: STRING, value: STRING}") }
                        env[key] = value
                    }
                }
                exec = KubeExecConfig(
                    apiVersion: apiVersion,
                    // A relative command with a slash is relative to the kubeconfig, as client-go resolves it.
                    command: command.contains("/") ? Self.resolve(command, base) : command,
                    args: try reader.strings(execMap, "args", at: execPath),
                    env: env,
                    provideClusterInfo: try reader.bool(execMap, "provideClusterInfo", at: execPath) ?? false
                )
            }
            config.users[name] = User(
                token: try reader.string(body, "token", at: path),
                tokenFile: try reader.string(body, "tokenFile", at: path).map { Self.resolve($0, base) },
                clientCertificate: try reader.string(body, "client-certificate", at: path).map { Self.resolve($0, base) },
                clientCertificateData: try reader.base64(body, "client-certificate-data", at: path),
                clientKey: try reader.string(body, "client-key", at: path).map { Self.resolve($0, base) },
                clientKeyData: try reader.base64(body, "client-key-data", at: path),
                exec: exec
            )
        }
        for (name, body, path) in try reader.namedList(top, "contexts", inner: "context") {
            config.contexts[name] = Context(
                cluster: try reader.required(reader.string(body, "cluster", at: path), "cluster", at: path),
                user: try reader.string(body, "user", at: path),
                namespace: try reader.string(body, "namespace", at: path)
            )
        }
        return config
    }

    /// The connection settings of `context` (or the current context).
    public func resolve(context requested: String?) throws(KubeConfigError) -> KubeClientConfiguration {
        func fail(_ field: String, _ message: String) -> KubeConfigError {
            KubeConfigError(file: file, field: field, message: message)
        }
        let available = contexts.keys.sorted().joined(separator: ", ")
        guard let name = requested ?? currentContext else {
            throw fail("current-context", "is not set and no context was given; available: \(available) — set source.context")
        }
        guard let context = contexts[name] else {
            throw fail(requested == nil ? "current-context" : "contexts",
                       "context \"\(name)\" not found; available: \(available.isEmpty ? "none" : available) — set source.context")
        }
        guard let cluster = clusters[context.cluster] else {
            throw fail("contexts[\"\(name)\"].context.cluster", "cluster \"\(context.cluster)\" not found in clusters")
        }
        let clusterPath = "clusters[\"\(context.cluster)\"].cluster"
        guard let url = URL(string: cluster.server), let scheme = url.scheme, ["https", "http"].contains(scheme),
            url.host != nil
        else {
            throw fail(clusterPath + ".server", "\"\(cluster.server)\" is not an http(s) URL")
        }
        var server = cluster.server
        while server.hasSuffix("/") { server.removeLast() }

        var configuration = KubeClientConfiguration(
            server: server,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
            tlsServerName: cluster.tlsServerName,
            origin: "\(file) context \(name)"
        )
        if let data = cluster.certificateAuthorityData {
            configuration.certificateAuthorityPEM = data
        } else if let path = cluster.certificateAuthority {
            configuration.certificateAuthorityPEM = try Self.read(path, field: clusterPath + ".certificate-authority", file: file)
        }
        guard let userName = context.user else { return configuration }
        guard let user = users[userName] else {
            throw fail("contexts[\"\(name)\"].context.user", "user \"\(userName)\" not found in users")
        }
        let userPath = "users[\"\(userName)\"].user"
        if let token = user.token {
            configuration.bearerToken = .literal(token)
        } else if let tokenFile = user.tokenFile {
            guard FileManager.default.isReadableFile(atPath: tokenFile) else {
                throw fail(userPath + ".tokenFile", "\(tokenFile) is missing or unreadable")
            }
            configuration.bearerToken = .file(tokenFile)
        }
        if let data = user.clientCertificateData {
            configuration.clientCertificatePEM = data
        } else if let path = user.clientCertificate {
            configuration.clientCertificatePEM = try Self.read(path, field: userPath + ".client-certificate", file: file)
        }
        if let data = user.clientKeyData {
            configuration.clientKeyPEM = data
        } else if let path = user.clientKey {
            configuration.clientKeyPEM = try Self.read(path, field: userPath + ".client-key", file: file)
        }
        if (configuration.clientCertificatePEM == nil) != (configuration.clientKeyPEM == nil) {
            throw fail(userPath, "has a client certificate without a key (or a key without a certificate); give both")
        }
        configuration.exec = user.exec
        return configuration
    }

    private static func resolve(_ path: String, _ base: String) -> String {
        if path.hasPrefix("/") || base.isEmpty { return path }
        return base + "/" + path
    }

    private static func read(_ path: String, field: String, file: String) throws(KubeConfigError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeConfigError(file: file, field: field, message: "\(path) is missing or unreadable")
        }
        return [UInt8](data)
    }

    /// Field access with errors that name the file and the field.
    private struct Reader {
        let file: String

        func fail(_ field: String, _ message: String) -> KubeConfigError {
            KubeConfigError(file: file, field: field, message: message)
        }

        func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        func required(_ value: String?, _ key: String, at path: String) throws(KubeConfigError) -> String {
            guard let value, !value.isEmpty else { throw fail(join(path, key), "is required") }
            return value
        }

        func string(_ map: [String: Any], _ key: String, at path: String) throws(KubeConfigError) -> String? {
            guard let value = map[key], !(value is NSNull) else { return nil }
            if let string = value as? String { return string }
            throw fail(join(path, key), "expected a string, found \(value)")
        }

        func bool(_ map: [String: Any], _ key: String, at path: String) throws(KubeConfigError) -> Bool? {
            guard let value = map[key], !(value is NSNull) else { return nil }
            if let bool = value as? Bool { return bool }
            throw fail(join(path, key), "expected true or false, found \(value)")
        }

        func strings(_ map: [String: Any], _ key: String, at path: String) throws(KubeConfigError) -> [String] {
            guard let value = map[key], !(value is NSNull) else { return [] }
            guard let list = value as? [Any] else { throw fail(join(path, key), "expected a list of strings") }
            var result: [String] = []
            for (index, item) in list.enumerated() {
                guard let string = item as? String else { throw fail("\(join(path, key))[\(index)]", "expected a string") }
                result.append(string)
            }
            return result
        }

        func base64(_ map: [String: Any], _ key: String, at path: String) throws(KubeConfigError) -> [UInt8]? {
            guard let text = try string(map, key, at: path) else { return nil }
            let compact = text.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else { throw fail(join(path, key), "is not valid base64") }
            return [UInt8](data)
        }

        /// `clusters: [{name: N, cluster: {...}}]` and the like: (name, body, field path) per entry.
        func namedList(_ top: [String: Any], _ key: String, inner: String) throws(KubeConfigError) -> [(String, [String: Any], String)] {
            guard let value = top[key], !(value is NSNull) else { return [] }
            guard let list = value as? [Any] else { throw fail(key, "expected a list of {name, \(inner)}") }
            var result: [(String, [String: Any], String)] = []
            for (index, entry) in list.enumerated() {
                guard let map = entry as? [String: Any], let name = map["name"] as? String, !name.isEmpty else {
                    throw fail("\(key)[\(index)].name", "is required")
                }
                let path = "\(key)[\"\(name)\"].\(inner)"
                guard let body = map[inner] as? [String: Any] else { throw fail(path, "is required (a mapping)") }
                result.append((name, body, path))
            }
            return result
        }
    }
}
