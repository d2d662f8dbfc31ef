import DNSAnswer
import NIOCore

extension RequesterAddress {
    /// The peer of a TCP connection in the form the responder matches against requester subnets (DESIGN §4.3).
    init(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4):
            self = .ipv4(UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            let (high, low) = withUnsafeBytes(of: v6.address.sin6_addr) { bytes in
                (
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d; match it as the IPv4 it is.
            if high == 0, low >> 32 == 0xFFFF {
                self = .ipv4(UInt32(truncatingIfNeeded: low))
            } else {
                self = .ipv6(high, low)
            }
        default:
            self = .unknown
        }
    }
}
