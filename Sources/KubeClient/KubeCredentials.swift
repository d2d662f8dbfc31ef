public import Foundation

/// The credentials a connector sends, kept current: a token file is re-read every refresh interval (service
/// account tokens rotate), an exec plugin's answer is cached until its `expirationTimestamp` (or, without one,
/// until the server answers 401) and the plugin is re-run after `invalidate()`.
public actor KubeCredentials {
    public struct Current: Sendable, Equatable {
        public var bearerToken: String?
        public var clientCertificatePEM: [UInt8]?
        public var clientKeyPEM: [UInt8]?
    }

    private let configuration: KubeClientConfiguration
    private let now: @Sendable () -> Date
    private var fileToken: (value: String, readAt: Date)?
    private var execCredential: ExecCredentialPlugin.Credential?
    /// A plugin run in progress; concurrent requests (one per watched kind) wait for it instead of running it again.
    private var execInFlight: Task<ExecCredentialPlugin.Credential, any Error>?
    /// How many times the exec plugin ran (tests check caching with it).
    public private(set) var execRuns = 0

    public init(configuration: KubeClientConfiguration, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.now = now
    }

    /// True when a 401 may be cured by fetching credentials again (exec plugin or token file).
    public nonisolated var canRefresh: Bool {
        if configuration.exec != nil { return true }
        if case .file = configuration.bearerToken { return true }
        return false
    }

    public func current() async throws(KubeClientError) -> Current {
        var current = Current(
            bearerToken: nil,
            clientCertificatePEM: configuration.clientCertificatePEM,
            clientKeyPEM: configuration.clientKeyPEM
        )
        switch configuration.bearerToken {
        case .literal(let token): current.bearerToken = token
        case .file(let path): current.bearerToken = try token(fromFile: path)
        case nil: break
        }
        if let exec = configuration.exec {
            let credential = try await execCredential(exec)
            if let token = credential.token { current.bearerToken = token }
            if let certificate = credential.clientCertificatePEM {
                current.clientCertificatePEM = certificate
                current.clientKeyPEM = credential.clientKeyPEM
            }
        }
        return current
    }

    /// The server rejected the credentials: forget cached ones so the next request fetches fresh ones.
    public func invalidate() {
        execCredential = nil
        fileToken = nil
    }

    private func token(fromFile path: String) throws(KubeClientError) -> String {
        let interval = Double(configuration.tokenFileRefreshInterval.components.seconds)
            + Double(configuration.tokenFileRefreshInterval.components.attoseconds) / 1e18
        if let cached = fileToken, now().timeIntervalSince(cached.readAt) < interval { return cached.value }
        guard let data = FileManager.default.contents(atPath: path) else {
            // Keep the last good token through a rotation that briefly removes the file.
            if let cached = fileToken { return cached.value }
            throw .credentials("token file \(path) is missing or unreadable")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        fileToken = (token, now())
        return token
    }

    private func execCredential(_ exec: KubeExecConfig) async throws(KubeClientError) -> ExecCredentialPlugin.Credential {
        if let cached = execCredential {
            if let expiration = cached.expiration {
                if expiration > now() { return cached }
            } else {
                return cached
            }
        }
        let task: Task<ExecCredentialPlugin.Credential, any Error>
        if let running = execInFlight {
            task = running
        } else {
            execRuns += 1
            let server = configuration.server
            let ca = configuration.certificateAuthorityPEM
            task = Task { try await ExecCredentialPlugin.run(exec, server: server, certificateAuthorityPEM: ca) }
            execInFlight = task
        }
        do {
            let credential = try await task.value
            if execInFlight == task { execInFlight = nil }
            execCredential = credential
            return credential
        } catch {
            if execInFlight == task { execInFlight = nil }
            throw (error as? KubeClientError) ?? .credentials("\(error)")
        }
    }
}
