public import DNSAnswer
public import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compiles the static zones into the answer table that `serve` publishes and `check` validates.
public enum StaticAnswers {
    public static func compile(zones: [Zone], configuration: Configuration) throws(StartupError) -> AnswerTable {
        let options = ServingOptions(maxUDPPayload: configuration.dns.maxUDPPayload, rotate: configuration.dns.rotate)
        // Static zones answer with their own SOA serial; the table's serial is the snapshot generation, seeded
        // from the clock (as RecordStore does for live tables) so it does not go backwards across restarts.
        let serial = UInt32(truncatingIfNeeded: time(nil))
        do {
            return try AnswerTable.compile(zones: zones, serial: serial, options: options)
        } catch {
            throw StartupError([
                SourceError(
                    file: file(of: error, in: zones) ?? configuration.zonesDir,
                    line: nil,
                    message: error.description
                )
            ])
        }
    }

    /// The zone file a compile error is about, so the message points at something the user can open.
    private static func file(of error: CompileError, in zones: [Zone]) -> String? {
        switch error {
        case .missingSOA(let origin), .duplicateZone(let origin):
            return zones.last { $0.origin == origin }?.file
        case .answerTooLarge(let name, _), .tooManyTypes(let name, _):
            return zones.filter { name.isSubdomain(of: $0.origin) }.max { $0.origin.labelCount < $1.origin.labelCount }?
                .file
        case .missingZone, .tooManyZones:
            return nil
        }
    }
}
