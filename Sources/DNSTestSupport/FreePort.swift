import Glibc

/// Picks a loopback port that is free for both UDP and TCP, for servers that must be told their port up front
/// (Knot, NSD and `mcdns serve` read it from their config).
///
/// The kernel chooses a TCP port (bind to 0, read it back); the same number must then bind for UDP too. Both
/// sockets are closed before returning, so another process could take the port in between: callers that start a
/// server retry with a new port when it fails to bind.
public enum FreePort {
    public static func loopback() throws(TestSupportError) -> UInt16 {
        for _ in 0..<50 {
            let tcp = try LoopbackSocket(type: Int32(SOCK_STREAM.rawValue))
            let port = try tcp.bind(port: 0)
            let udp = try LoopbackSocket(type: Int32(SOCK_DGRAM.rawValue))
            if (try? udp.bind(port: port)) != nil { return port }
        }
        throw .system("no loopback port free for both UDP and TCP after 50 attempts")
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
