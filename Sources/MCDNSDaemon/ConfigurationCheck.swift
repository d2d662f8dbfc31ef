public import DNSWire

/// What `mcdns check` does, as a function: the configuration, every zone file, and the compile that `serve` would
/// run, so a config that passes here is one `serve` accepts.
public enum ConfigurationCheck {
    /// One zone that loaded and compiled.
    public struct ZoneSummary: Sendable, Equatable {
        public var file: String
        public var origin: String
        public var recordCount: Int
    }

    public struct Report: Sendable {
        /// Every problem, each as `file:line: message`; empty when everything is valid.
        public var errors: [SourceError]
        /// The configuration, when it could be read.
        public var configuration: Configuration?
        /// The zones that were checked (filled only when the configuration itself is valid).
        public var zones: [ZoneSummary]
    }

    public static func run(file: String) -> Report {
        let configuration: Configuration
        do {
            configuration = try Configuration.load(file: file)
        } catch {
            return Report(errors: error.errors, configuration: nil, zones: [])
        }
        let loaded = ZoneDirectory.load(configuration.zonesDir)
        var errors = loaded.errors
        if errors.isEmpty {
            errors += configuration.transferZoneProblems(served: loaded.zones.map(\.origin))
        }
        if errors.isEmpty {
            do {
                _ = try StaticAnswers.compile(zones: loaded.zones, configuration: configuration)
            } catch {
                errors.append(contentsOf: error.errors)
            }
        }
        let zones = loaded.zones.map {
            ZoneSummary(file: $0.file, origin: $0.origin.description, recordCount: $0.records.count)
        }
        return Report(errors: errors, configuration: configuration, zones: errors.isEmpty ? zones : [])
    }
}
