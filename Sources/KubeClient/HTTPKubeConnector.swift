import AsyncHTTPClient
import Foundation
public import Logging
public import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Direct HTTP(S) to a member's API server with async-http-client: TLS per the kubeconfig (CA, client
/// certificate, insecure-skip-tls-verify, tls-server-name) and a bearer token from `KubeCredentials`.
///
/// A 401 answer when credentials can be refreshed (exec plugin, token file) invalidates them and retries once,
/// as client-go's exec round tripper does. Call `shutdown()` when done: the HTTP client owns connections.
public final class HTTPKubeConnector: KubeConnector {
    public let configuration: KubeClientConfiguration
    public let credentials: KubeCredentials
    private let clientConfiguration: HTTPClient.Configuration
    /// Created on first use, so a connector built but never run (a failed startup, `mcdns check`) holds no
    /// connections and needs no shutdown; `.closed` after `shutdown()`.
    private let client = Mutex(ClientState.idle)
    private let baseTLS: TLSConfiguration
    /// Scheme, authority and path prefix requests go to (the tls-server-name in place of the host, when set).
    private let base: String
    private let logger: Logger
    private let defaultTimeout: Duration

    public init(
        configuration: KubeClientConfiguration,
        credentials: KubeCredentials? = nil,
        connectTimeout: Duration = .seconds(10),
        defaultTimeout: Duration = .seconds(300),
        logger: Logger
    ) throws(KubeClientError) {
        self.configuration = configuration
        self.credentials = credentials ?? KubeCredentials(configuration: configuration)
        self.logger = logger
        self.defaultTimeout = defaultTimeout

        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = configuration.certificateAuthorityPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            } catch {
                throw .tls("\(configuration.origin): certificate authority is not valid PEM: \(error)")
            }
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        baseTLS = tls
        if let certificate = configuration.clientCertificatePEM, let key = configuration.clientKeyPEM {
            // Checked now so a bad file is a startup error, not a failure on every request.
            _ = try Self.tls(base: tls, certificate: certificate, key: key, origin: configuration.origin)
        }

        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout.connect = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000
            + connectTimeout.components.attoseconds / 1_000_000_000)
        clientConfiguration.tlsConfiguration = tls
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.decompression = .disabled
        var base = configuration.server
        if let name = configuration.tlsServerName, let url = URL(string: configuration.server), let host = url.host {
            // Connect to the real host but verify (and send SNI for) the configured name: async-http-client's
            // dnsOverride does exactly that when the URL carries the name.
            let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            clientConfiguration.dnsOverride = [name: bareHost]
            var components = URLComponents(string: configuration.server)
            components?.host = name
            base = components?.string ?? configuration.server
        }
        self.base = base
        self.clientConfiguration = clientConfiguration
    }

    private enum ClientState {
        case idle
        case running(HTTPClient)
        case closed
    }

    private func httpClient() throws -> HTTPClient {
        try client.withLock { state in
            switch state {
            case .idle:
                let created = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
                state = .running(created)
                return created
            case .running(let existing):
                return existing
            case .closed:
                throw KubeClientError.protocolViolation("\(configuration.origin): the connector is shut down")
            }
        }
    }

    /// Closes the connections; later requests fail.
    public func shutdown() async {
        let running: HTTPClient? = client.withLock { state in
            defer { state = .closed }
            if case .running(let existing) = state { return existing }
            return nil
        }
        guard let running else { return }
        do {
            try await running.shutdown()
        } catch {
            logger.debug("HTTP client shutdown: \(error)")
        }
    }

    public func execute(_ request: KubeRequest) async throws -> KubeResponse {
        let first = try await send(request, credentials: credentials.current())
        if first.status.code == 401, credentials.canRefresh {
            logger.info("API server answered 401; fetching credentials again", metadata: ["origin": "\(configuration.origin)"])
            await credentials.invalidate()
            return Self.response(try await send(request, credentials: credentials.current()))
        }
        return Self.response(first)
    }

    private func send(_ request: KubeRequest, credentials current: KubeCredentials.Current) async throws -> HTTPClientResponse {
        var outgoing = HTTPClientRequest(url: base + request.path)
        outgoing.method = HTTPMethod(rawValue: request.method)
        outgoing.headers.add(name: "Accept", value: "application/json")
        outgoing.headers.add(name: "User-Agent", value: "mcdns")
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let token = current.bearerToken { outgoing.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)") }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        if let certificate = current.clientCertificatePEM, let key = current.clientKeyPEM {
            outgoing.tlsConfiguration = try Self.tls(base: baseTLS, certificate: certificate, key: key,
                                                     origin: configuration.origin)
        }
        let timeout = request.timeout ?? defaultTimeout
        let nanoseconds = Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        return try await httpClient().execute(outgoing, timeout: .nanoseconds(nanoseconds), logger: nil)
    }

    private static func response(_ response: HTTPClientResponse) -> KubeResponse {
        let box = BodyIterator(response.body.makeAsyncIterator())
        // Pull-based: each `next()` runs in the reader's task, so cancelling the reader cancels the request.
        let body = AsyncThrowingStream<ByteBuffer, any Error> { try await box.next() }
        return KubeResponse(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: body
        )
    }

    private static func tls(base: TLSConfiguration, certificate: [UInt8], key: [UInt8], origin: String)
        throws(KubeClientError) -> TLSConfiguration
    {
        var tls = base
        do {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
        } catch {
            throw .tls("\(origin): client certificate is not valid PEM: \(error)")
        }
        do {
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        } catch {
            throw .tls("\(origin): client key is not a valid PEM private key: \(error)")
        }
        return tls
    }

    /// The response body's iterator, read by one consumer at a time (the stream's unfolding closure).
    private final class BodyIterator: @unchecked Sendable {
        private var iterator: HTTPClientResponse.Body.AsyncIterator

        init(_ iterator: HTTPClientResponse.Body.AsyncIterator) {
            self.iterator = iterator
        }

        func next() async throws -> ByteBuffer? {
            try await iterator.next()
        }
    }
}
