import DNSAnswer
import DNSWire
import MCDNSModel
import RecordStore

/// The state-file loader as `mcdns serve` runs it at start: `StateFile.decode`, then the saved records restored
/// into a live table (`RecordStore(restoring:)`).
///
/// The first input byte picks the mode. Even: the rest is the whole file, header included. Odd: the rest is the
/// JSON payload, framed here with a correct header (magic, version, length, CRC-32), so the fuzzer reaches the
/// payload's decoding past the checksum it could not guess. Properties: a file is rejected with a typed error or
/// decodes; a decoded state encodes, and decodes again to an equal state (unpack-then-pack); restoring it never
/// fails, and the static zone still answers its SOA query (records that do not compile are dropped with a log line).
enum StateFileFuzzEntry {
    static func check(_ input: [UInt8]) -> String? {
        guard let mode = input.first else { return nil }
        let rest = Array(input.dropFirst())
        let file = mode & 1 == 1 ? framed(rest) : rest
        let state: PersistedState
        do {
            state = try StateFile.decode(file, path: "fuzz/records.state")
        } catch {
            return nil  // A typed StateFileError: what the daemon logs before starting cold.
        }
        let encoded: [UInt8]
        do {
            encoded = try StateFile.encode(state)
        } catch {
            return "a decoded state does not encode: \(error)"
        }
        do {
            let again = try StateFile.decode(encoded, path: "fuzz/records.state")
            guard again == state else { return "decode-encode-decode changed the state" }
        } catch {
            return "a re-encoded state does not decode: \(error)"
        }
        let store: RecordStore
        do {
            store = try RecordStore(live: try liveTable(), firstSerial: 1, restoring: state)
        } catch {
            return "restoring a decoded state failed: \(error)"
        }
        // Whatever the saved records hold, the static zone still answers.
        var output = [UInt8](repeating: 0, count: 65535)
        let length = soaQuery.withUnsafeBytes { query in
            output.withUnsafeMutableBytes { store.current().respond(to: query, transport: .tcp, into: $0) }
        }
        guard length >= 12, output[3] & 0x0F == 0, output[6] << 8 | output[7] == 1 else {
            return "after restoring, the zone's SOA query gets \(length) bytes, RCODE \(output[3] & 0x0F)"
        }
        return nil
    }

    static let soaQuery: [UInt8] = (try? Message.query(name: DomainName("example.com"), type: .soa)) ?? []

    /// `payload` behind a valid header, as `StateFile.encode` writes it.
    static func framed(_ payload: [UInt8]) -> [UInt8] {
        var bytes = StateFile.magic
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { bytes += $0 } }
        append(StateFile.formatVersion)
        append(UInt64(payload.count))
        append(crc32(payload))
        return bytes + payload
    }

    /// CRC-32 (IEEE, reflected), as the state file's header carries it.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// The zone and naming of RecordStoreTests' PersistenceTests: services under `acme.svc.example.com`.
    static func liveTable() throws -> LiveTable {
        let text = """
            $ORIGIN example.com.
            @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
            @ 300 IN NS ns1
            ns1 300 IN A 192.0.2.1

            """
        let origin = try DomainName("example.com")
        guard let zone = ZoneFile.parse(text, origin: origin).0 else { throw FuzzSetupError.zone }
        let naming = NamingConfiguration(
            federationName: "acme",
            federationDomain: origin,
            recordTTL: 30,
            degradedTTL: 5
        )
        return try LiveTable(zones: [zone], naming: naming)
    }

    enum FuzzSetupError: Error { case zone }
}
