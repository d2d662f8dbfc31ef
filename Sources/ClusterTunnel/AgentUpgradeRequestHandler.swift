import Foundation
import NIOCore
import NIOHTTP1

/// Sends the agent's upgrade request (path, bearer token, claimed cluster) once the connection is up, and turns a
/// refusal (any answer but 101) into a `TunnelError.upgradeRefused` carrying the host's reason.
final class AgentUpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    static let name = "tunnel.upgradeRequest"

    private let host: String
    private let cluster: String
    private let token: String?
    private let outcome: TunnelAgent.DialOutcome
    private var sent = false
    private var refusal: (status: Int, body: ByteBuffer)?

    init(host: String, cluster: String, token: String?, outcome: TunnelAgent.DialOutcome) {
        self.host = host
        self.cluster = cluster
        self.token = token
        self.outcome = outcome
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { send(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
        context.fireChannelActive()
    }

    private func send(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var headers = HTTPHeaders([
            ("host", host), (TunnelAuthenticator.clusterHeader, cluster), ("content-length", "0"),
        ])
        if let token { headers.add(name: "authorization", value: "Bearer \(token)") }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: TunnelServer.path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            refusal = (Int(response.status.code), context.channel.allocator.buffer(capacity: 0))
        case .body(var bytes):
            // Enough of the host's explanation for a log line.
            if var body = refusal?.body, body.readableBytes < 512 {
                body.writeBuffer(&bytes)
                refusal?.body = body
            }
        case .end:
            if let refusal {
                let message = String(buffer: refusal.body).trimmingCharacters(in: .whitespacesAndNewlines)
                outcome.fail(TunnelError.upgradeRefused(status: refusal.status, message: message))
            }
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A refusal arrives as the upgrade handler's error followed by the response itself; wait for the response.
        if refusal == nil, !(error is NIOHTTPClientUpgradeError) { outcome.fail(error) }
        context.fireErrorCaught(error)
    }
}
