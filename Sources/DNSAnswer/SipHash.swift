/// SipHash-2-4 (Aumasson and Bernstein), the keyed hash RFC 9018 uses for version 1 server cookies.
/// Allocation-free: it reads the message in place. Keys are the two little-endian 64-bit halves of the
/// 16-byte key, as the reference implementation reads them.
public enum SipHash24 {
    public static func hash(key0: UInt64, key1: UInt64, _ message: UnsafeRawBufferPointer) -> UInt64 {
        var state = State(v0: 0x736f_6d65_7073_6575 ^ key0, v1: 0x646f_7261_6e64_6f6d ^ key1,
                          v2: 0x6c79_6765_6e65_7261 ^ key0, v3: 0x7465_6462_7974_6573 ^ key1)
        let count = message.count
        let whole = count & ~7
        var offset = 0
        while offset < whole {
            var word: UInt64 = 0
            for i in 0..<8 { word |= UInt64(message[offset + i]) << (8 * UInt64(i)) }
            state.v3 ^= word
            state.round(); state.round()
            state.v0 ^= word
            offset += 8
        }
        var last = UInt64(truncatingIfNeeded: count) << 56
        for i in 0..<(count - whole) { last |= UInt64(message[whole + i]) << (8 * UInt64(i)) }
        state.v3 ^= last
        state.round(); state.round()
        state.v0 ^= last
        state.v2 ^= 0xFF
        state.round(); state.round(); state.round(); state.round()
        return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
    }

    /// The two key halves of a 16-byte key.
    public static func key(_ bytes: some Collection<UInt8>) -> (UInt64, UInt64) {
        precondition(bytes.count == 16, "a SipHash key has 16 bytes")
        var k0: UInt64 = 0, k1: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            if i < 8 { k0 |= UInt64(byte) << (8 * UInt64(i)) } else { k1 |= UInt64(byte) << (8 * UInt64(i - 8)) }
        }
        return (k0, k1)
    }

    private struct State {
        var v0, v1, v2, v3: UInt64

        @inline(__always)
        mutating func round() {
            v0 &+= v1; v1 = rotate(v1, 13); v1 ^= v0; v0 = rotate(v0, 32)
            v2 &+= v3; v3 = rotate(v3, 16); v3 ^= v2
            v0 &+= v3; v3 = rotate(v3, 21); v3 ^= v0
            v2 &+= v1; v1 = rotate(v1, 17); v1 ^= v2; v2 = rotate(v2, 32)
        }
    }

    @inline(__always)
    private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 - bits))
    }
}
