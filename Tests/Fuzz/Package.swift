// swift-tools-version: 6.0
// The libFuzzer targets of mcdns, kept in their own package (as swift-protobuf's FuzzTesting is) so that the
// sanitizer build never touches the main build. Run them with ./run.sh SECONDS [TARGET...].
//
// One executable per parser of untrusted input. Each target's checks live in its `*Entry.swift`, which the root
// package's FuzzReplayTests compiles too (a symlink), so `swift test` replays Seeds/ and Crashes/ through the same
// code without sanitizers.
//
// A release + AddressSanitizer + coverage build of KubeClient, ClusterController or MCDNSDaemon would compile
// AsyncHTTPClient, BoringSSL (twice: NIOSSL and Crypto), HTTP/2 and Hummingbird: far past CI's budget. The parsers
// themselves need none of that, so the `Light/` targets compile the parser files of those modules (symlinks into
// ../../Sources, so they cannot drift) as Light* modules, with only Yams, NIOCore, NIOHTTP1 and NIOWebSocket.
// run.sh builds with -enable-testing so the entry points reach internal parsers with `@testable import`, as the
// root tests do. RecordStore, DNSAnswer, DNSWire and DNSServer (NIOPosix, no TLS; the config
// loader reads its TCP, rate-limit and cookie settings) come from the root package.
import PackageDescription

/// SwiftPM refuses two targets of one name in a graph, so the light modules are named Light*, and every target
/// that imports them maps the real name onto them (swiftc -module-alias): the shared sources say `import KubeClient`.
func aliases(_ names: [String]) -> [String] {
    names.flatMap { ["-module-alias", "\($0)=Light\($0)"] }
}
let lightModules = ["KubeClient", "ClusterController", "MCDNSDaemon", "ClusterTunnel"]
func light(importing names: [String]) -> [SwiftSetting] { names.isEmpty ? [] : [.unsafeFlags(aliases(names))] }
let entry: [SwiftSetting] = [.unsafeFlags(aliases(lightModules))]

let package = Package(
    name: "MCDNSFuzz",
    dependencies: [
        .package(name: "mcdns", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // The parser files of the heavy modules, compiled without the network, TLS and HTTP parts.
        .target(
            name: "LightKubeClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "MCDNSModel", package: "mcdns"),
            ],
            path: "Sources/Light/KubeClient",
            swiftSettings: light(importing: [])
        ),
        .target(
            name: "LightClusterController",
            dependencies: ["LightKubeClient", .product(name: "Yams", package: "Yams")],
            path: "Sources/Light/ClusterController",
            swiftSettings: light(importing: ["KubeClient"])
        ),
        .target(
            name: "LightMCDNSDaemon",
            dependencies: [
                "LightKubeClient",
                "LightClusterController",
                .product(name: "DNSServer", package: "mcdns"),
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
                .product(name: "MCDNSModel", package: "mcdns"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Sources/Light/MCDNSDaemon",
            swiftSettings: light(importing: ["KubeClient", "ClusterController"])
        ),
        .target(
            name: "LightClusterTunnel",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Light/ClusterTunnel"
        ),

        .executableTarget(
            name: "DNSFuzz",
            dependencies: [
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
            ]
        ),
        .executableTarget(name: "KubeJSONFuzz", dependencies: ["LightKubeClient"], swiftSettings: entry),
        .executableTarget(name: "WatchFramingFuzz", dependencies: ["LightKubeClient"], swiftSettings: entry),
        .executableTarget(
            name: "ManifestFuzz",
            dependencies: ["LightClusterController", "LightKubeClient"],
            swiftSettings: entry
        ),
        .executableTarget(name: "ConfigFuzz", dependencies: ["LightMCDNSDaemon"], swiftSettings: entry),
        .executableTarget(
            name: "StateFileFuzz",
            dependencies: [
                .product(name: "RecordStore", package: "mcdns"),
                .product(name: "MCDNSModel", package: "mcdns"),
            ]
        ),
        .executableTarget(
            name: "TCPFramingFuzz",
            dependencies: [
                .product(name: "DNSServer", package: "mcdns"),
                .product(name: "RecordStore", package: "mcdns"),
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "TunnelFuzz",
            dependencies: [
                "LightClusterTunnel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: entry
        ),
    ]
)
