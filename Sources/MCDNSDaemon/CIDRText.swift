public import DNSAnswer
import MCDNSModel

/// Reads the `cidr` of `locality.requesters.subnets` into the `IPNetwork` the answer table matches requesters
/// with, with messages that say what is wrong.
public enum CIDRText {
    /// Reads `ADDRESS/LENGTH`. Host bits must be zero: `10.1.2.0/16` is refused, since it usually hides a typo.
    public static func parse(_ text: String) -> Result<IPNetwork, CIDRError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return .failure(CIDRError("\"\(text)\": expected ADDRESS/LENGTH (example: 10.1.0.0/16)"))
        }
        guard let address = IPAddress(String(parts[0]))?.bytes else {
            return .failure(CIDRError("\"\(text)\": \"\(parts[0])\" is not an IPv4 or IPv6 address"))
        }
        let maxLength = address.count * 8
        guard let length = Int(parts[1]), (0...maxLength).contains(length) else {
            return .failure(
                CIDRError("\"\(text)\": prefix length \"\(parts[1])\" must be a number from 0 to \(maxLength)")
            )
        }
        let network = IPNetwork(address: address, prefixLength: length)
        guard network.address == address else {
            return .failure(CIDRError("\"\(text)\": host bits are set; did you mean \(network)?"))
        }
        return .success(network)
    }
}

/// Why a CIDR could not be read.
public struct CIDRError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
