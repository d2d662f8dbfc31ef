import Foundation
import Hummingbird
import NIOCore
import NIOHTTPTypes
import Synchronization

/// The admin API's open connections, shared by every connection's `AdminConnectionGuard`: at most `limit`.
///
/// When a new connection would go over the limit, the connection idle for longest (no request in progress) is
/// closed to make room, so idle clients cannot lock others out; when every connection is busy, the new one is
/// closed instead.
final class AdminConnections: Sendable {
    struct Entry {
        var channel: any Channel
        var busy: Bool
        /// Order of the last change between idle and busy: the smallest idle one is the oldest idle.
        var since: UInt64
    }

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var clock: UInt64 = 0
        var evicted = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { state.withLock { $0.entries.count } }
    /// Connections closed to make room for new ones, or refused because every one was busy.
    var evicted: Int { state.withLock { $0.evicted } }

    /// Registers `channel`; returns the channel to close to stay within the limit (an old idle one, or `channel`).
    func opened(_ channel: any Channel) -> (any Channel)? {
        state.withLock { state in
            state.clock += 1
            let id = ObjectIdentifier(channel)
            state.entries[id] = Entry(channel: channel, busy: false, since: state.clock)
            guard state.entries.count > limit else { return nil }
            state.evicted += 1
            let oldestIdle = state.entries.filter { $0.key != id && !$0.value.busy }.min {
                $0.value.since < $1.value.since
            }
            guard let (victim, entry) = oldestIdle else {
                state.entries[id] = nil
                return channel
            }
            state.entries[victim] = nil
            return entry.channel
        }
    }

    func closed(_ channel: any Channel) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func set(_ channel: any Channel, busy: Bool) {
        state.withLock { state in
            state.clock += 1
            let id = ObjectIdentifier(channel)
            guard state.entries[id] != nil else { return }
            state.entries[id]?.busy = busy
            state.entries[id]?.since = state.clock
        }
    }
}

/// One admin connection's guard, after Hummingbird's HTTP/1 codec: it counts the connection in
/// `AdminConnections`, closes it once an error response (4xx, 5xx) is written, and closes it when a request is
/// not answered within `requestTimeout` (a request body that trickles in). Idle connections are closed by
/// Hummingbird's own idle timeout.
///
/// Hummingbird answers a request it cannot parse (headers over its limits) with a 400 and half-closes; a client
/// that then never closes its side left the socket open for good: closing after an error response ends that.
final class AdminConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let connections: AdminConnections
    private let requestTimeout: TimeAmount
    private var closeAfterResponse = false
    private var deadline: Scheduled<Void>?
    private var registered = false

    init(connections: AdminConnections, requestTimeout: TimeAmount) {
        self.connections = connections
        self.requestTimeout = requestTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { register(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        register(context)
        context.fireChannelActive()
    }

    private func register(_ context: ChannelHandlerContext) {
        guard !registered else { return }
        registered = true
        let channel = context.channel
        if let victim = connections.opened(channel) { victim.close(promise: nil) }
        // Unregistered however the channel ends, also when this handler never sees channelInactive.
        let connections = self.connections
        channel.closeFuture.whenComplete { _ in connections.closed(channel) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            connections.set(context.channel, busy: true)
            deadline?.cancel()
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: requestTimeout) { channel.close(promise: nil) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if response.status.code >= 400 { closeAfterResponse = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            deadline?.cancel()
            deadline = nil
            connections.set(context.channel, busy: false)
            guard closeAfterResponse else {
                context.write(data, promise: promise)
                return
            }
            let channel = context.channel
            context.writeAndFlush(data).whenComplete { result in
                promise?.completeWith(result)
                channel.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}
