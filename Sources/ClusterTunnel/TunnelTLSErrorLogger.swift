import Foundation
import Logging
import NIOCore
import NIOSSL

/// Logs a failed TLS handshake (unknown or expired client certificate, unpinned server certificate) once, with
/// the peer, and closes: without it a refused peer would only show as a silently closed socket.
final class TunnelTLSErrorLogger: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let logger: Logger
    private let peer: String
    /// The host's refusal log (counted, rate-limited); nil on the agent, which logs every failure.
    private let refusals: TunnelRefusalLog?
    private var logged = false

    init(logger: Logger, peer: String, refusals: TunnelRefusalLog? = nil) {
        self.logger = logger
        self.peer = peer
        self.refusals = refusals
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !logged {
            logged = true
            if error is NIOSSLError || error is BoringSSLError {
                let why = Self.explainPeerCertificate(context: context).map { " (\($0))" } ?? ""
                if let refusals {
                    refusals.refused("tls", level: .warning, "TLS with the \(peer) failed: \(error)\(why)", logger: logger)
                } else {
                    logger.warning("TLS with the \(peer) failed: \(error)\(why)")
                }
            } else {
                logger.notice("tunnel connection error: \(error)")
            }
        }
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    /// BoringSSL reports any rejected client certificate as CERTIFICATE_VERIFY_FAILED; the host's operator needs
    /// to know which certificate and why. The certificate the peer presented is still readable after the failed
    /// handshake: its dates tell an expired (or not yet valid) one from one the client CA did not sign.
    static func explainPeerCertificate(context: ChannelHandlerContext, now: Date = Date()) -> String? {
        guard let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self),
            let certificate = handler.peerCertificate
        else { return nil }
        let subject = TunnelAuthenticator.clusterName(of: certificate).map { "CN \($0)" } ?? "without a CN"
        let notBefore = Date(timeIntervalSince1970: TimeInterval(certificate.notValidBefore))
        let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        let dates = ISO8601DateFormatter()
        if now > notAfter {
            return "the agent's client certificate (\(subject)) expired at \(dates.string(from: notAfter))"
        }
        if now < notBefore {
            return "the agent's client certificate (\(subject)) is not valid before \(dates.string(from: notBefore))"
        }
        return "the agent's client certificate (\(subject)) is within its dates: is it signed by the client CA?"
    }
}
