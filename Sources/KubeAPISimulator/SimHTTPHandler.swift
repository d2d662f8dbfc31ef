import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One HTTP/1.1 connection: reads a request, applies a pending fault or answers it through `SimRouter`, and for a
/// watch streams events as chunks of one JSON object and a newline each, as the apiserver does.
final class SimHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case receiving(HTTPRequestHead, [UInt8])
        /// A full answer is due (possibly after an injected delay); further input waits.
        case answering
        case watching(Watch)
        /// A stall fault: nothing more is read or written until the client gives up.
        case stalled
    }

    private struct Watch {
        var token: UInt64
        var storeID: UInt64?
        var timers: [Scheduled<Void>]
        var bookmarks: RepeatedTask?
    }

    private let core: SimServerCore
    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var watchToken: UInt64 = 0
    /// False when the client asked for `Connection: close` (or spoke HTTP/1.0): close after the answer.
    private var keepAlive = true
    /// Bodies beyond this are refused: the apiserver's limit is 3 MiB per request.
    private static let maxBody = 3 * 1024 * 1024

    init(core: SimServerCore) {
        self.core = core
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelActive(context: ChannelHandlerContext) {
        core.connectionOpened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.connectionClosed(context.channel)
        if case .watching(let watch) = state { cancel(watch) }
        state = .idle
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = state else { return }
            state = .receiving(head, [])
        case .body(var buffer):
            guard case .receiving(let head, var body) = state else { return }
            if body.count + buffer.readableBytes > Self.maxBody {
                state = .answering
                let error = SimStatus.error(
                    code: 413, reason: "RequestEntityTooLarge", message: "the request body is too large"
                )
                send(.error(error), recordIndex: nil, user: nil, context: context)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
            state = .receiving(head, body)
        case .end:
            guard case .receiving(let head, let body) = state else { return }
            state = .answering
            keepAlive = head.isKeepAlive
            process(head: head, body: body, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: requests

    private func process(head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
        let (path, query) = SimHTTPRequest.split(uri: head.uri)
        let request = SimHTTPRequest(
            method: head.method.rawValue, path: path, query: query, headers: head.headers, body: body
        )
        let route = SimRoute(path: path)
        let isWatch = request.method == "GET" && route.isCollection && request.isWatchParameter
        let isList = request.method == "GET" && route.isCollection && !isWatch
        let facts = SimServerCore.RequestFacts(
            path: path, resource: route.resource, isList: isList, isWatch: isWatch,
            hasContinue: !(request.query("continue") ?? "").isEmpty
        )
        let fault = core.takeFault(for: facts)
        let recordIndex = core.record(
            SimRequestRecord(
                method: request.method, path: path, query: query, isWatch: isWatch, resource: route.resource,
                status: 0, user: nil, fault: fault, receivedAt: .now, answeredAt: nil,
                isCollection: route.isCollection
            )
        )
        let router = SimRouter(core: core)
        let authenticated = router.authenticate(request, certificateUser: certificateUser(context))
        let user = try? authenticated.get()

        if let fault {
            switch fault {
            case .dropConnection:
                context.close(promise: nil)
                return
            case .stall:
                state = .stalled
                return
            case .stallAfterHeaders:
                state = .stalled
                writeHead(status: 200, contentType: "application/json", extra: [], contentLength: nil, context: context)
                context.flush()
                core.setStatus(200, user: user, forRecord: recordIndex)
                return
            case .delay(let duration):
                let loop = context.eventLoop.assumeIsolated()
                loop.scheduleTask(in: .nanoseconds(Int64(duration.nanoseconds))) {
                    guard case .answering = self.state, context.channel.isActive else { return }
                    self.answer(request, route: route, authenticated: authenticated, recordIndex: recordIndex, context: context)
                }
                return
            case .answerLate(let duration):
                guard case .success(let user) = authenticated else { break }
                let action = SimRouter(core: core).handle(request, route: route, user: user)
                let loop = context.eventLoop.assumeIsolated()
                loop.scheduleTask(in: .nanoseconds(Int64(duration.nanoseconds))) {
                    guard case .answering = self.state, context.channel.isActive else { return }
                    self.send(action, recordIndex: recordIndex, user: user, context: context)
                }
                return
            case .status(let code, let retryAfterSeconds):
                send(.error(SimStatus.injected(code: code, retryAfterSeconds: retryAfterSeconds)), recordIndex: recordIndex, user: user, context: context)
                return
            case .tooLargeResourceVersion:
                let current = core.store.currentRevision
                let requested = request.query("resourceVersion").flatMap { UInt64($0) } ?? current + 1
                send(.error(SimStatus.tooLargeResourceVersion(requested: max(requested, current + 1), current: current)), recordIndex: recordIndex, user: user, context: context)
                return
            case .watchErrorEvent(let code):
                let status: SimJSON =
                    code == 410
                    ? SimStatus.watchTooOld(
                        requested: request.query("resourceVersion").flatMap { UInt64($0) } ?? 0,
                        oldest: core.store.currentRevision
                    )
                    : (try? SimJSON.parse(SimStatus.injected(code: code, retryAfterSeconds: nil).statusJSON)) ?? .null
                if isWatch {
                    core.setStatus(200, user: user, forRecord: recordIndex)
                    writeHead(status: 200, contentType: "application/json", extra: [], contentLength: nil, context: context)
                    writeEvent(type: "ERROR", object: status, context: context)
                    finishStream(context: context)
                } else {
                    send(.json(code, status), recordIndex: recordIndex, user: user, context: context)
                }
                return
            case .closeWatchImmediately:
                core.setStatus(200, user: user, forRecord: recordIndex)
                writeHead(status: 200, contentType: "application/json", extra: [], contentLength: nil, context: context)
                finishStream(context: context)
                return
            case .expireContinueToken:
                let start = (try? SimContinueToken.decode(request.query("continue") ?? ""))?.start ?? ""
                let fresh = SimContinueToken(revision: -1, start: start.trimmingLeadingSlash).encoded
                send(.error(SimStatus.continueTooOld(freshToken: fresh)), recordIndex: recordIndex, user: user, context: context)
                return
            }
        }
        answer(request, route: route, authenticated: authenticated, recordIndex: recordIndex, context: context)
    }

    private func answer(
        _ request: SimHTTPRequest,
        route: SimRoute,
        authenticated: Result<String, SimAPIError>,
        recordIndex: Int,
        context: ChannelHandlerContext
    ) {
        switch authenticated {
        case .failure(let error):
            send(.error(error), recordIndex: recordIndex, user: nil, context: context)
        case .success(let user):
            let action = SimRouter(core: core).handle(request, route: route, user: user)
            send(action, recordIndex: recordIndex, user: user, context: context)
        }
    }

    /// The CN of a verified client certificate, when TLS with a client CA is configured.
    private func certificateUser(_ context: ChannelHandlerContext) -> String? {
        guard core.configuration.tls?.clientCAPath != nil,
            let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
        else { return nil }
        return certificate.subjectName.last(where: { $0.type == .commonName })?.value
    }

    private func send(_ action: SimAction, recordIndex: Int?, user: String?, context: ChannelHandlerContext) {
        switch action {
        case .respond(let status, let body, let contentType, let headers):
            if let recordIndex { core.setStatus(status, user: user, forRecord: recordIndex) }
            var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
            buffer.writeString(body)
            writeHead(status: status, contentType: contentType, extra: headers, contentLength: buffer.readableBytes, context: context)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            endResponse(context: context)
        case .watch(let plan):
            startWatch(plan, recordIndex: recordIndex, user: user, context: context)
        }
    }

    private func writeHead(
        status: Int,
        contentType: String,
        extra: [(String, String)],
        contentLength: Int?,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        headers.add(name: "Audit-Id", value: UUID().uuidString.lowercased())
        headers.add(name: "Cache-Control", value: "no-cache, private")
        headers.add(name: "Content-Type", value: contentType)
        if status == 403 { headers.add(name: "X-Content-Type-Options", value: "nosniff") }
        if status != 401 {
            headers.add(name: "X-Kubernetes-Pf-Flowschema-Uid", value: "5e0f6c52-6a4e-4d7b-9d0e-3c1b8a7f2e10")
            headers.add(name: "X-Kubernetes-Pf-Prioritylevel-Uid", value: "8c2d1f43-0b7a-4e55-a6d9-71f0e4c3b2a8")
        }
        for (name, value) in extra { headers.add(name: name, value: value) }
        headers.add(name: "Date", value: Self.httpDate())
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        if let contentLength { headers.add(name: "Content-Length", value: String(contentLength)) }
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    private static func httpDate() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date())
    }

    // MARK: watches

    private func startWatch(_ plan: SimWatchPlan, recordIndex: Int?, user: String?, context: ChannelHandlerContext) {
        watchToken += 1
        let token = watchToken
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let deliver: @Sendable (SimWatchDelivery) -> Void = { delivery in
            loop.execute { bound.value.deliver(delivery, token: token) }
        }
        let started: Result<UInt64, SimWatchExpired>
        do {
            started = try core.store.startWatch(
                plan.resource, filter: plan.filter, from: plan.start,
                initialEventsEndBookmark: plan.initialEventsEndBookmark, deliver: deliver
            )
        } catch {
            send(.error(error), recordIndex: recordIndex, user: user, context: context)
            return
        }
        if let recordIndex { core.setStatus(200, user: user, forRecord: recordIndex) }
        writeHead(status: 200, contentType: "application/json", extra: [], contentLength: nil, context: context)
        switch started {
        case .failure(let expired):
            // Too old: 200, then one ERROR event with a 410 Status, then the end (transcripts 44, 45).
            writeEvent(
                type: "ERROR", object: SimStatus.watchTooOld(requested: expired.requested, oldest: expired.oldest),
                context: context
            )
            finishStream(context: context)
        case .success(let id):
            context.flush()
            let store = core.store
            var watch = Watch(token: token, storeID: id, timers: [], bookmarks: nil)
            let isolated = context.eventLoop.assumeIsolated()
            watch.timers.append(
                isolated.scheduleTask(in: .nanoseconds(Int64(plan.timeout.nanoseconds))) {
                    // The apiserver sends a last bookmark shortly before timeoutSeconds ends the stream (20).
                    if plan.allowBookmarks { store.bookmark(id) }
                    store.endWatch(id)
                }
            )
            if plan.allowBookmarks {
                let interval = TimeAmount.nanoseconds(Int64(core.configuration.bookmarkInterval.nanoseconds))
                watch.bookmarks = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                    store.bookmark(id)
                }
            }
            state = .watching(watch)
        }
    }

    private func deliver(_ delivery: SimWatchDelivery, token: UInt64) {
        guard let context, case .watching(let watch) = state, watch.token == token else { return }
        switch delivery {
        case .event(let type, let object):
            writeEvent(type: type, object: object, context: context)
            context.flush()
        case .raw(let text):
            var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
            buffer.writeString(text)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        case .close:
            cancel(watch, removeFromStore: false)
            finishStream(context: context)
        }
    }

    private func cancel(_ watch: Watch, removeFromStore: Bool = true) {
        for timer in watch.timers { timer.cancel() }
        watch.bookmarks?.cancel()
        if removeFromStore, let id = watch.storeID { core.store.removeWatch(id) }
    }

    private func writeEvent(type: String, object: SimJSON, context: ChannelHandlerContext) {
        let line = SimJSON.object([("type", .string(type)), ("object", object)]).text + "\n"
        var buffer = context.channel.allocator.buffer(capacity: line.utf8.count)
        buffer.writeString(line)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    private func finishStream(context: ChannelHandlerContext) {
        endResponse(context: context)
    }

    private func endResponse(context: ChannelHandlerContext) {
        state = .idle
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
