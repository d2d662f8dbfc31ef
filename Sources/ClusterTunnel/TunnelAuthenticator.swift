import Foundation
import NIOHTTP1
import NIOSSL

/// Decides which cluster an upgrade request speaks for, from its credential only.
///
/// A bearer token is hashed and compared (in constant time, against every configured cluster, so the time taken
/// does not tell which one nearly matched); a client certificate was already verified against the client CA by
/// TLS, and names its cluster in its CN or first DNS SAN. A cluster header the agent sends is only cross-checked.
struct TunnelAuthenticator: Sendable {
    static let clusterHeader = "X-MCDNS-Cluster"

    enum Decision: Equatable, Sendable {
        case accepted(cluster: String, method: String)
        case refused(status: HTTPResponseStatus, reason: String)
    }

    private let digests: [(cluster: String, digest: TokenDigest)]
    private let clusters: Set<String>
    private let acceptsCertificates: Bool

    init(configuration: TunnelServerConfiguration) {
        digests = configuration.clusters.sorted { $0.key < $1.key }.flatMap { name, credential in
            [credential.tokenSHA256, credential.previousTokenSHA256].compactMap { hex in
                hex.flatMap(TokenDigest.init(hex:)).map { (name, $0) }
            }
        }
        clusters = Set(configuration.clusters.keys)
        acceptsCertificates = configuration.clientCertificateAuthority != nil
    }

    func authenticate(head: HTTPRequestHead, peerCertificate: NIOSSLCertificate?) -> Decision {
        let identified: Decision
        if let token = Self.bearerToken(head.headers) {
            let presented = TokenDigest(token: token)
            var match: String?
            for entry in digests where entry.digest.constantTimeEquals(presented) && match == nil {
                match = entry.cluster
            }
            guard let cluster = match else {
                return .refused(status: .unauthorized, reason: "bearer token matches no configured cluster")
            }
            identified = .accepted(cluster: cluster, method: "token")
        } else if let certificate = peerCertificate, acceptsCertificates {
            guard let name = Self.clusterName(of: certificate) else {
                return .refused(status: .forbidden, reason: "client certificate has neither a CN nor a DNS SAN")
            }
            guard clusters.contains(name) else {
                return .refused(
                    status: .forbidden,
                    reason: "client certificate names cluster \(name), which is not configured"
                )
            }
            identified = .accepted(cluster: name, method: "client certificate")
        } else {
            return .refused(status: .unauthorized, reason: "no bearer token and no client certificate")
        }
        if case .accepted(let cluster, _) = identified, let claimed = head.headers.first(name: Self.clusterHeader),
            claimed != cluster
        {
            return .refused(
                status: .forbidden,
                reason: "agent claims cluster \(claimed) but its credential is for cluster \(cluster)"
            )
        }
        return identified
    }

    static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "Authorization") else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static func clusterName(of certificate: NIOSSLCertificate) -> String? {
        if let commonName = certificate.subjectName.last(where: { $0.type == .commonName })?.value, !commonName.isEmpty
        {
            return commonName
        }
        for name in certificate._subjectAlternativeNames() where name.nameType == .dnsName {
            return name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }
        }
        return nil
    }
}
