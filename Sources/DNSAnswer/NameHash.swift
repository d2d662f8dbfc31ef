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

    /// The hash that picks a name's shard: of its first two labels, leaving out labels that start with `_`.
    /// The names of one service (`web.shop.acme.svc.example.com`, its region and zone names, `web.shop.svc.
    /// clusterset.local`, `_http._tcp.web.shop.svc.clusterset.local`) then sit in one shard, and a change to the
    /// service rebuilds one shard for them. `labels` counts from `start`; `seed` carries labels hashed before.
    @inline(__always)
    static func group(_ packet: UnsafeRawBufferPointer, from start: Int, to end: Int, seed: UInt32 = seed,
                      labels: Int = 2) -> UInt32 {
        var h = seed
        var i = start
        var left = labels
        while left > 0 && i < end {
            let length = Int(packet[i])
            let next = i + 1 + length
            guard length > 0, next < end else { break }
            if packet[i + 1] == 0x5F {
                i = next
                continue
            }
            while i < next {
                h = mix(h, packet[i])
                i += 1
            }
            left -= 1
        }
        return h
    }

    static func group(_ wire: [UInt8]) -> UInt32 {
        wire.withUnsafeBytes { group($0, from: 0, to: $0.count) }
    }

    /// The state after hashing the label `*`: continue it over a suffix to get the hash of `*.suffix`.
    static let wildcardSeed: UInt32 = mix(mix(seed, 1), UInt8(ascii: "*"))
}
