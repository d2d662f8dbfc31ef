import DNSTestSupport
import Foundation

/// The zone files under `Zones/`, found from this source file's path so tests run from any directory.
enum TestZones {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Zones").path

    static let diff = ServedZone(origin: "diff.test.", path: directory + "/diff.test.zone")
    static let other = ServedZone(origin: "other.test.", path: directory + "/other.test.zone")
    static let all = [diff, other]

    /// The package root (two levels above this folder), where `swift build` leaves `.build/debug/mcdns`.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}
