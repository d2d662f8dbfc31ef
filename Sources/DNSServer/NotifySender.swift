public import DNSAnswer
public import DNSWire
public import Logging
public import NIOCore
import NIOPosix
public import RecordStore
public import ServiceLifecycle
import Synchronization

/// Sends NOTIFY (RFC 1996) to the secondaries of `transfer.notify` whenever a transferred zone gets a new serial
/// (and once at start, so secondaries check a restarted primary), signed with `transfer.notifyKey` when set. An
/// unanswered NOTIFY is sent again after `notifyRetry`, each wait twice the last up to `notifyMaxInterval`, until
/// the secondary answers it or a newer serial replaces it. Its own UDP socket, never the query path's.
public final class NotifySender: Service {
    private let transfer: ZoneTransfer
    private let store: RecordStore
    private let logger: Logger
    private let group: any EventLoopGroup
    private let pollInterval: Duration
    private let acknowledged = NotifyAcknowledgements()
    private let sentCount = Atomic<Int>(0)
    private let ackCount = Atomic<Int>(0)

    public init(
        transfer: ZoneTransfer,
        store: RecordStore,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        pollInterval: Duration = .milliseconds(50)
    ) {
        self.transfer = transfer
        self.store = store
        self.logger = logger
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.pollInterval = pollInterval
    }

    /// NOTIFY messages sent (retries included) and answered with NOERROR so far.
    public var sent: Int { sentCount.load(ordering: .relaxed) }
    public var acknowledgedCount: Int { ackCount.load(ordering: .relaxed) }

    private struct Pending {
        var serial: UInt32
        var soa: ResourceRecord
        var id: UInt16
        var attempts: Int
        var due: ContinuousClock.Instant
    }

    private struct Target: Hashable {
        var address: ListenAddress
        var zone: DomainName
    }

    public func run() async throws {
        let acknowledged = self.acknowledged
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NotifyResponseHandler(acknowledged: acknowledged))
                }
            }
            .bind(host: Self.bindHost(transfer.configuration.notify), port: 0).get()
        defer { channel.close(promise: nil) }
        var generation: UInt64 = 0
        var notified: [DomainName: UInt32] = [:]
        var pending: [Target: Pending] = [:]
        let clock = ContinuousClock()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let configuration = transfer.configuration
            let now = clock.now
            if store.generation != generation {
                generation = store.generation
                let snapshot = store.transferSnapshot()
                for zone in snapshot.zones where configuration.transfers(zone.origin) {
                    let soa = zone.transferSOA(serial: snapshot.serial)
                    let serial = ZoneTransfer.serial(of: soa)
                    guard notified[zone.origin] != serial else { continue }
                    notified[zone.origin] = serial
                    for address in configuration.notify {
                        pending[Target(address: address, zone: zone.origin)] = Pending(
                            serial: serial,
                            soa: soa,
                            id: UInt16.random(in: 0...UInt16.max),
                            attempts: 0,
                            due: now
                        )
                    }
                }
            }
            for (id, rcode) in acknowledged.take() {
                guard let target = pending.first(where: { $0.value.id == id })?.key else { continue }
                if rcode == .noError {
                    ackCount.add(1, ordering: .relaxed)
                    logger.debug(
                        "NOTIFY acknowledged",
                        metadata: [
                            "dns.zone": "\(target.zone)", "dns.secondary": "\(target.address)",
                        ]
                    )
                    pending[target] = nil
                } else {
                    logger.warning(
                        "NOTIFY answered with an error; retrying",
                        metadata: [
                            "dns.zone": "\(target.zone)", "dns.secondary": "\(target.address)", "rcode": "\(rcode)",
                        ]
                    )
                }
            }
            for (target, var entry) in pending {
                guard configuration.notify.contains(target.address), configuration.transfers(target.zone) else {
                    pending[target] = nil
                    continue
                }
                guard entry.due <= now else { continue }
                send(entry, to: target, key: configuration.notifyKey, on: channel)
                entry.attempts += 1
                let wait = configuration.notifyRetry * (1 << min(entry.attempts - 1, 20))
                entry.due = now + min(wait, configuration.notifyMaxInterval)
                if entry.attempts == 5 {
                    logger.warning(
                        "NOTIFY not acknowledged after 5 attempts; still retrying",
                        metadata: [
                            "dns.zone": "\(target.zone)", "dns.secondary": "\(target.address)",
                        ]
                    )
                }
                pending[target] = entry
            }
            try? await Task.sleep(for: pollInterval)
        }
    }

    /// Loopback only while every secondary is on loopback; IPv6 (dual stack) when one has an IPv6 address.
    static func bindHost(_ targets: [ListenAddress]) -> String {
        if !targets.isEmpty && targets.allSatisfy({ $0.host.hasPrefix("127.") }) { return "127.0.0.1" }
        return targets.contains { $0.host.contains(":") } ? "::" : "0.0.0.0"
    }

    private static func bytes(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    private func send(_ entry: Pending, to target: Target, key: TSIGKey?, on channel: any Channel) {
        // RFC 1996 §3.7: opcode NOTIFY with AA set; the question and one answer record are the zone's SOA.
        let flags = Opcode.notify.headerBits | 0x04
        var wire: [UInt8] = [UInt8(entry.id >> 8), UInt8(entry.id & 0xFF), flags, 0, 0, 1, 0, 1, 0, 0, 0, 0]
        let soaInClass = Self.bytes(RRType.soa.rawValue) + Self.bytes(RRClass.in.rawValue)
        wire += target.zone.wire + soaInClass
        let soa = entry.soa
        wire += soa.owner.wire + soaInClass
        wire += [UInt8(soa.ttl >> 24), UInt8(soa.ttl >> 16 & 0xFF), UInt8(soa.ttl >> 8 & 0xFF), UInt8(soa.ttl & 0xFF)]
        wire += [UInt8(soa.rdata.count >> 8), UInt8(soa.rdata.count & 0xFF)] + soa.rdata
        if let key {
            do {
                wire = try TSIG.sign(wire, key: key, priorMAC: nil).wire
            } catch {
                logger.error("cannot sign NOTIFY", metadata: ["error": "\(error)"])
                return
            }
        }
        guard let address = try? SocketAddress(ipAddress: target.address.host, port: target.address.port) else {
            return
        }
        var buffer = channel.allocator.buffer(capacity: wire.count)
        buffer.writeBytes(wire)
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer), promise: nil)
        sentCount.add(1, ordering: .relaxed)
        logger.debug(
            "NOTIFY sent",
            metadata: [
                "dns.zone": "\(target.zone)", "dns.secondary": "\(target.address)", "dns.serial": "\(entry.serial)",
                "attempt": "\(entry.attempts + 1)",
            ]
        )
    }
}

/// NOTIFY responses received and not yet looked at by the sender's loop.
final class NotifyAcknowledgements: Sendable {
    private let list = Mutex<[(id: UInt16, rcode: RCode)]>([])

    func append(_ id: UInt16, _ rcode: RCode) { list.withLock { $0.append((id, rcode)) } }

    func take() -> [(id: UInt16, rcode: RCode)] {
        list.withLock { list in
            defer { list = [] }
            return list
        }
    }
}

/// Collects the IDs and RCODEs of NOTIFY responses for the sender's loop.
private final class NotifyResponseHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let acknowledged: NotifyAcknowledgements

    init(acknowledged: NotifyAcknowledgements) {
        self.acknowledged = acknowledged
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data).data
        guard buffer.readableBytes >= 12, let id = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
            let flags = buffer.getInteger(at: buffer.readerIndex + 2, as: UInt16.self),
            flags & 0x8000 != 0, Opcode(headerByte: UInt8(flags >> 8)) == .notify
        else { return }
        acknowledged.append(id, RCode(header: UInt8(truncatingIfNeeded: flags)))
    }
}
