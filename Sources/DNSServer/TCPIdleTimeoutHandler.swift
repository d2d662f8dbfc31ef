import NIOCore

/// Closes a connection that has sent no byte for `timeout`: a silent client, or one that stopped between a
/// length prefix and the data it promised (RFC 7766 §6.2.3: servers should close idle connections).
///
/// NIO's `IdleStateHandler` measures with the wall clock; this one asks the event loop for the time, so the
/// same code runs on an `EmbeddedEventLoop` whose clock the tests move by hand.
final class TCPIdleTimeoutHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var lastRead: NIODeadline = .uptimeNanoseconds(0)
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { start(context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = context.eventLoop.now
        context.fireChannelRead(data)
    }

    private func start(context: ChannelHandlerContext) {
        lastRead = context.eventLoop.now
        schedule(context: context, at: lastRead + timeout)
    }

    /// One timer per connection, moved forward lazily: a read only stores the time, the timer re-arms itself.
    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.fire(context: context)
        }
    }

    private func fire(context: ChannelHandlerContext) {
        timer = nil
        guard context.channel.isActive else { return }
        let deadline = lastRead + timeout
        if context.eventLoop.now >= deadline {
            context.close(promise: nil)
        } else {
            schedule(context: context, at: deadline)
        }
    }
}
