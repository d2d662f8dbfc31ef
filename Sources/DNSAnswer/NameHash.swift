/// FNV-1a over the lower-cased bytes of a wire name: the same value at compile time and on the query path.
enum NameHash {
    static let seed: UInt32 = 2_166_136_261

    @inline(__always)
    static func mix(_ hash: UInt32, _ byte: UInt8) -> UInt32 {
        (hash ^ UInt32(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)) &* 16_777_619
    }

    static func hash(_ wire: [UInt8]) -> UInt32 {
        var h = seed
        for byte in wire { h = mix(h, byte) }
        return h
    }

    @inline(__always)
    static func hash(_ packet: UnsafeRawBufferPointer, from start: Int, to end: Int, seed: UInt32 = seed) -> UInt32 {
        var h = seed
        var i = start
        while i < end {
            h = mix(h, packet[i])
            i += 1
        }
        return h
    }

    /// The state after hashing the label `*`: continue it over a suffix to get the hash of `*.suffix`.
    static let wildcardSeed: UInt32 = mix(mix(seed, 1), UInt8(ascii: "*"))
}
