import Foundation
import Glibc

/// Picks a loopback port that is free for both UDP and TCP, for servers that must be told their port up front
/// (Knot, NSD and `mcdns serve` read it from their config).
///
/// The port comes from below the kernel's ephemeral range (`net.ipv4.ip_local_port_range`), so no client socket
/// can be given the same number as its source port. That happened once in CI: dig's UDP socket got Knot's port
/// as its own, connected to 127.0.0.1:P from port P, and received its own query as the "answer" (a connected
/// socket outranks the server's for a datagram that matches it exactly). A candidate must bind for TCP and UDP;
/// both sockets are closed before returning, so another process could take the port in between: callers that
/// start a server retry with a new port when it fails to bind.
public enum FreePort {
    public static func loopback() throws(TestSupportError) -> UInt16 {
        let (lower, upper) = serverRange()
        if upper - lower >= 1000 {
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<200 {
                let port = UInt16(Int.random(in: lower...upper, using: &generator))
                let tcp = try LoopbackSocket(type: Int32(SOCK_STREAM.rawValue))
                guard (try? tcp.bind(port: port)) != nil else { continue }
                let udp = try LoopbackSocket(type: Int32(SOCK_DGRAM.rawValue))
                if (try? udp.bind(port: port)) != nil { return port }
            }
        }
        // No room below the ephemeral range: let the kernel choose, as before.
        for _ in 0..<50 {
            let tcp = try LoopbackSocket(type: Int32(SOCK_STREAM.rawValue))
            let port = try tcp.bind(port: 0)
            let udp = try LoopbackSocket(type: Int32(SOCK_DGRAM.rawValue))
            if (try? udp.bind(port: port)) != nil { return port }
        }
        throw .system("no loopback port free for both UDP and TCP after 50 attempts")
    }

    /// Ports for test servers: from 10,000 up to just below the ephemeral range (32768–60999 by default).
    static func serverRange() -> (lower: Int, upper: Int) {
        let lower = 10_000
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let first = text.split(whereSeparator: \.isWhitespace).first,
              let ephemeralLow = Int(first)
        else {
            return (lower, 32_767)
        }
        return (lower, min(ephemeralLow, 65_536) - 1)
    }
}

/// A socket bound to 127.0.0.1, closed on release.
final class LoopbackSocket {
    let fd: Int32

    init(type: Int32) throws(TestSupportError) {
        fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw .system("socket() failed: errno \(errno)") }
    }

    /// Binds to 127.0.0.1:`port` (0 = any) and returns the bound port.
    func bind(port: UInt16) throws(TestSupportError) -> UInt16 {
        var address = sockaddr_in.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw .system("bind 127.0.0.1:\(port) failed: errno \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw .system("getsockname failed: errno \(errno)") }
        return UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}

extension sockaddr_in {
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}
