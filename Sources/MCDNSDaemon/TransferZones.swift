import DNSAnswer
import DNSWire

/// The zone contents a static-only daemon (no members) transfers: its zone files as compiled for answers.
enum TransferZones {
    static func contents(_ zones: [Zone]) -> [ZoneContent] {
        zones.compactMap { try? ZoneContent(zone: $0) }
    }
}
