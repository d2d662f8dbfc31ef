public import DNSWire

/// The static zones of `zonesDir`: every `*.zone` file in it (not its subdirectories), in name order.
/// A file's origin is its `$ORIGIN`; without one, its name (`example.com.zone` is `example.com.`).
public enum ZoneDirectory {
    public static let fileSuffix = ".zone"

    /// Loads every zone file, collecting the problems of all of them rather than stopping at the first file.
    public static func load(_ directory: String) -> (zones: [Zone], errors: [SourceError]) {
        let paths: [String]
        do {
            paths = try FileSystem.files(in: directory, suffix: fileSuffix)
        } catch {
            return ([], [SourceError(file: directory, line: nil, message: "cannot list the zones directory: \(error)")])
        }
        var zones: [Zone] = []
        var errors: [SourceError] = []
        var firstFile: [DomainName: String] = [:]
        for path in paths {
            let (read, problems) = ZoneFile.read(path: path)
            errors.append(contentsOf: problems)
            guard let zone = read else { continue }
            if let first = firstFile[zone.origin] {
                errors.append(
                    SourceError(file: path, line: nil, message: "zone \(zone.origin) is also defined in \(first)")
                )
                continue
            }
            firstFile[zone.origin] = path
            zones.append(zone)
        }
        return (zones, errors)
    }
}
