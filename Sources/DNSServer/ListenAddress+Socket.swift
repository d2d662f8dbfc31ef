public import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ListenAddress {
    /// The socket address to bind, made from the address's bytes: the text was read once, when the configuration
    /// was, and is not parsed again here.
    public var socketAddress: SocketAddress {
        address.withUnsafeBytes { bytes in
            if address.isIPv6 {
                var socket = sockaddr_in6()
                socket.sin6_family = sa_family_t(AF_INET6)
                socket.sin6_port = in_port_t(UInt16(port).bigEndian)
                withUnsafeMutableBytes(of: &socket.sin6_addr) { $0.copyMemory(from: bytes) }
                return SocketAddress(socket, host: host)
            }
            var socket = sockaddr_in()
            socket.sin_family = sa_family_t(AF_INET)
            socket.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &socket.sin_addr) { $0.copyMemory(from: bytes) }
            return SocketAddress(socket, host: host)
        }
    }
}
