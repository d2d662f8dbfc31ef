public import ArgumentParser

public struct MCDNSCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mcdns",
        abstract: "Multi-cluster service discovery and authoritative DNS."
    )
    public init() {}
}
