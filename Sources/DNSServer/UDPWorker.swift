import CMCDNSSys
import DNSAnswer
import DNSWire
import RecordStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One UDP socket and the dedicated thread that serves it with a `recvmmsg`/`sendmmsg` batch loop.
///
/// A real thread, not a task: the loop blocks in `recvmmsg` and must never wait behind other work on the
/// cooperative pool (DESIGN §8). Per batch it loads the current table once; per datagram it only calls
/// `AnswerTable.respond` into the batch's own output slot and, with rate limiting on, asks its own
/// `ResponseRateLimiter` (made when the thread starts, touched by no other thread), so a query costs no
/// allocation, lock or hop.
final class UDPWorker: Sendable {
    /// Datagrams per `recvmmsg`/`sendmmsg` call: 64 saved about 2 µs per query in the measurements of §8.
    static let batchSize: Int32 = 64
    /// Every slot can hold the largest datagram, so a query is never cut and any `maxUDPPayload` fits.
    /// The buffers are only touched as far as datagrams reach, so the untouched pages cost no memory.
    static let datagramBufferSize: Int32 = 65535
    /// How long `recvmmsg` blocks before the loop looks at the stop flag again, in case the `shutdown(2)`
    /// that normally wakes it came before the thread entered the call.
    static let receiveTimeoutMilliseconds: Int32 = 250
    static let hashPresent: UInt64 = 1 << 32

    let fd: Int32
    let address: ListenAddress
    let index: Int
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)
    /// Guards the descriptor: a late `stop()` (a shutdown handler racing the end of `run()`) must not
    /// `shutdown(2)` a number the kernel has already handed to another socket.
    private let closed = Mutex(false)

    init(fd: Int32, address: ListenAddress, index: Int) {
        self.fd = fd
        self.address = address
        self.index = index
    }

    /// Starts the thread; when the loop ends it reports to `exits`.
    func start(store: RecordStore, exits: WorkerExitTracker, counters: QueryCounters,
               rateLimit: RateLimitConfiguration = .off, cookies: CookieKeyring? = nil,
               transfer: ZoneTransfer? = nil) throws(DNSServerError) {
        let body = ThreadBody { [self] in
            // Named so `top -H` and perf show which threads serve UDP (the kernel keeps 15 characters).
            mcdns_thread_set_name("mcdns-udp-\(index)")
            let limiter = rateLimit.isEnabled ? ResponseRateLimiter(configuration: rateLimit) : nil
            let failure = serve(store: store, counters: counters, limiter: limiter, keyring: cookies,
                                transfer: transfer)
            exits.exited(failure: failure)
        }
        let argument = Unmanaged.passRetained(body).toOpaque()
        var handle = pthread_t()
        let result = pthread_create(
            &handle,
            nil,
            { argument in
                guard let argument else { return nil }
                Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().run()
                return nil
            },
            argument
        )
        guard result == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(argument).release()
            throw DNSServerError("UDP \(address): cannot start a thread: \(String(cString: strerror(result)))")
        }
        thread.withLock { $0 = handle }
    }

    /// Asks the loop to end: the flag says so, and `shutdown(2)` wakes a `recvmmsg` blocked on the socket.
    func stop() {
        stopping.store(true, ordering: .releasing)
        closed.withLock { closed in
            if !closed { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Waits for the thread (call once it reported its exit, so this does not block) and closes the socket.
    func joinAndClose() {
        if let handle = thread.withLock({ value -> pthread_t? in
            defer { value = nil }
            return value
        }) {
            _ = pthread_join(handle, nil)
        }
        closed.withLock { closed in
            if !closed { _ = close(fd) }
            closed = true
        }
    }

    /// The batch loop. Returns nil when asked to stop, or why it could not go on.
    private func serve(store: RecordStore, counters: QueryCounters, limiter: ResponseRateLimiter?,
                       keyring: CookieKeyring?, transfer: ZoneTransfer?) -> String? {
        guard let batch = mcdns_batch_create(Self.batchSize, Self.datagramBufferSize) else {
            return "UDP \(address): cannot allocate the datagram buffers"
        }
        defer { mcdns_batch_destroy(batch) }
        let outputSize = Int(Self.datagramBufferSize)
        // Per slot of the batch: its name hash with `hashPresent` set, or 0 when the question was not read.
        let hashes = UnsafeMutablePointer<UInt64>.allocate(capacity: Int(Self.batchSize))
        defer { hashes.deallocate() }
        var reader = RecordStore.Reader(store)
        var v4: UInt32 = 0
        var high: UInt64 = 0
        var low: UInt64 = 0
        var outcome = ResponseOutcome()
        // The zone counter slots of the table last seen (made again only when the table changes).
        var zoneTable: AnswerTable? = nil
        var zoneSlots: [Int] = []
        // The cookie secrets of the current rotation period, made again only when the period changes.
        var cookies = ServerCookies.disabled
        var cookiePeriod = UInt32.max
        while !stopping.load(ordering: .acquiring) {
            let received = mcdns_batch_recv(fd, batch)
            if received < 0 {
                let error = errno
                switch error {
                case EAGAIN, EWOULDBLOCK, EINTR, ENOMEM, ENOBUFS, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH:
                    // A receive timeout, a signal, memory pressure or an ICMP error left by an earlier send:
                    // none of them is about this socket, so serve on.
                    continue
                default:
                    if stopping.load(ordering: .acquiring) { return nil }
                    return "UDP \(address): recvmmsg failed: \(String(cString: strerror(error)))"
                }
            }
            if received == 0 { continue }
            // Latency is measured per batch (two vDSO clock reads per recvmmsg, not per query).
            let started = mcdns_monotonic_nanoseconds()
            let table = reader.table()
            if zoneTable !== table {
                zoneSlots = counters.zones.slots(of: table.zoneOrigins)
                zoneTable = table
            }
            if let keyring {
                // Cookie timestamps are Unix time (RFC 9018 §4.3): one vDSO read per batch.
                let now = UInt32(truncatingIfNeeded: time(nil))
                let period = keyring.period(at: now)
                if period != cookiePeriod {
                    cookies = keyring.cookies(at: now)
                    cookiePeriod = period
                }
                cookies.now = now
            }
            // What answering reads is prefetched for the whole batch first, in two steps (the directory entries,
            // then the shards they name), so the cache misses of the batch overlap: perf showed each query
            // waiting for its own shard as the answer path's largest cost.
            for slot in 0..<received {
                let query = UnsafeRawBufferPointer(start: mcdns_batch_in(batch, slot),
                                                   count: mcdns_batch_in_length(batch, slot))
                if mcdns_batch_in_truncated(batch, slot) == 0, let hash = table.lookupHash(of: query) {
                    hashes[Int(slot)] = UInt64(hash) | Self.hashPresent
                    mcdns_prefetch(table.directoryAddress(ofHash: hash))
                } else {
                    hashes[Int(slot)] = 0
                }
            }
            for slot in 0..<Int(received) where hashes[slot] != 0 {
                mcdns_prefetch_lookup(table.shardAddress(ofHash: UInt32(truncatingIfNeeded: hashes[slot])))
            }
            for slot in 0..<received {
                var length = 0
                var qtype = RRType.reserved
                let size = mcdns_batch_in_length(batch, slot)
                outcome.zone = -1
                // A datagram larger than the buffer is no DNS query we could answer correctly: drop it.
                if size > 0, mcdns_batch_in_truncated(batch, slot) == 0 {
                    let query = UnsafeRawBufferPointer(start: mcdns_batch_in(batch, slot), count: size)
                    let output = UnsafeMutableRawBufferPointer(start: mcdns_batch_out(batch, slot), count: outputSize)
                    // The peer address is matched against the requester subnets (DESIGN §4.3).
                    let source: RequesterAddress
                    switch mcdns_batch_peer_address(batch, slot, &v4, &high, &low) {
                    case 4: source = .ipv4(v4)
                    case 6: source = .ipv6(high, low)
                    default: source = .unknown
                    }
                    let answered = table.respond(to: query, transport: .udp, source: source, into: output,
                                                 qtype: &qtype, outcome: &outcome, cookies: cookies)
                    length = min(max(answered, 0), outputSize)
                    // IXFR over UDP (RFC 1995 §2; AXFR stays REFUSED): rare, answered by the transfer service.
                    if qtype == .ixfr, length > 0, let transfer {
                        length = min(transfer.respondUDP(to: query, source: source, output: output, length: length),
                                     outputSize)
                    } else if outcome.signed, length > 0, let transfer {
                        // Rare (a secondary checking the SOA with its key) and costly (ldns): only signed queries.
                        length = transfer.signResponse(to: query, response: output, length: length)
                    }
                    if length > 0, let limiter {
                        switch limiter.check(source: source, outcome: outcome, nowMilliseconds: started / 1_000_000) {
                        case .pass:
                            break
                        case .slip:
                            length = min(max(table.respondSlipped(to: query, source: source, into: output,
                                                                  cookies: cookies), 0), outputSize)
                            counters.rateLimited(outcome.responseClass, dropped: false)
                        case .drop:
                            length = 0
                            counters.rateLimited(outcome.responseClass, dropped: true)
                        }
                    }
                }
                counters.count(transport: .udp, qtype: qtype, response: mcdns_batch_out(batch, slot), length: length)
                counters.zone(outcome.zone, slots: zoneSlots)
                mcdns_batch_set_out_length(batch, slot, length)
            }
            counters.latency(nanoseconds: mcdns_monotonic_nanoseconds() &- started, queries: Int(received))
            _ = mcdns_batch_send(fd, batch, received)
        }
        return nil
    }
}

/// Carries the thread's closure through `pthread_create`'s untyped argument.
private final class ThreadBody {
    let run: () -> Void

    init(_ run: @escaping () -> Void) {
        self.run = run
    }
}
