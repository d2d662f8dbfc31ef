/// Where a cluster (or endpoint) sits. A member without a region or zone is placed in `unknown`.
public struct Locality: Hashable, Sendable, Codable, CustomStringConvertible {
    public static let unknown = "unknown"

    public var region: String
    public var zone: String

    public init(region: String, zone: String) {
        self.region = region
        self.zone = zone
    }

    public var description: String { "\(region)/\(zone)" }
}
