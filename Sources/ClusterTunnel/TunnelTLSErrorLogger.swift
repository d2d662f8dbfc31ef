import Logging
import NIOCore
import NIOSSL

/// Logs a failed TLS handshake (unknown or expired client certificate, unpinned server certificate) once, with
/// the peer, and closes: without it a refused peer would only show as a silently closed socket.
final class TunnelTLSErrorLogger: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let logger: Logger
    private let peer: String
    private var logged = false

    init(logger: Logger, peer: String) {
        self.logger = logger
        self.peer = peer
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !logged {
            logged = true
            if error is NIOSSLError || error is BoringSSLError {
                logger.warning("TLS with the \(peer) failed: \(error)")
            } else {
                logger.notice("tunnel connection error: \(error)")
            }
        }
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }
}
