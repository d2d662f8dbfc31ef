import DNSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The harness keeps test servers out of the kernel's ephemeral port range, and `Dig` never takes a client's own
/// query coming back for an answer (CI once compared Knot's "answer" that was dig's query, QR clear).
@Suite struct PortAndEchoTests {
    @Test func serverPortsLieBelowTheEphemeralRange() throws {
        let text = try String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let low = try #require(text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) })
        for _ in 0..<20 {
            let port = Int(try FreePort.loopback())
            #expect(port >= 1024 && port < low, "port \(port), ephemeral range from \(low)")
        }
    }

    /// A UDP socket on a free port that sends every datagram back where it came from, until closed.
    final class Echo: @unchecked Sendable {
        let fd: Int32
        let port: UInt16

        init() throws {
            port = try FreePort.loopback()
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw TestSupportError.system("echo bind failed: errno \(errno)") }
            let descriptor = fd
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    var peer = sockaddr_storage()
                    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                    let count = withUnsafeMutablePointer(to: &peer) { peerPointer in
                        peerPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            recvfrom(descriptor, &buffer, buffer.count, 0, $0, &length)
                        }
                    }
                    if count <= 0 { return }
                    _ = withUnsafePointer(to: &peer) { peerPointer in
                        peerPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            sendto(descriptor, buffer, count, 0, $0, length)
                        }
                    }
                }
            }
        }

        func stop() {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func digRefusesItsOwnQueryForAnAnswer() throws {
        let echo = try Echo()
        defer { echo.stop() }
        let dig = try Dig(port: echo.port, timeoutSeconds: 2)
        #expect(throws: TestSupportError.self) { _ = try dig.query("example.com", "A") }
    }
}
