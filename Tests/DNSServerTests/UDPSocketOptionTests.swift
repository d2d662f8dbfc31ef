import CMCDNSSys
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The UDP sockets' buffers: the kernel's default receive buffer (about 200 KiB) overflowed under a client with
/// 500 queries in flight and every dropped query cost that client a whole timeout (bench/dns-qps.sh).
@Suite struct UDPSocketOptionTests {
    @Test func receiveAndSendBuffersAreEnlarged() throws {
        let fd = mcdns_udp_socket("127.0.0.1", 0, 250)
        try #require(fd >= 0)
        defer { close(fd) }
        let requested = 8 * 1024 * 1024
        // Without CAP_NET_ADMIN the kernel caps the request at net.core.[rw]mem_max; it reports twice what it
        // grants (the doubling covers its bookkeeping).
        func expected(_ limitFile: String) -> Int {
            let limit = (try? String(contentsOfFile: limitFile, encoding: .utf8))
                .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
            return 2 * (geteuid() == 0 ? requested : min(requested, limit))
        }
        for (option, limitFile) in [(SO_RCVBUF, "/proc/sys/net/core/rmem_max"), (SO_SNDBUF, "/proc/sys/net/core/wmem_max")] {
            var value: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            #expect(getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0)
            #expect(Int(value) >= expected(limitFile), "option \(option): \(value)")
        }
    }
}
