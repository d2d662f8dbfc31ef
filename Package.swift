// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

let package = Package(
    name: "mcdns",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mcdns", targets: ["mcdns"]),
        // Libraries for the nested packages under bench/ and Tests/Fuzz.
        .library(name: "DNSWire", targets: ["DNSWire"]),
        .library(name: "DNSAnswer", targets: ["DNSAnswer"]),
        .library(name: "MCDNSModel", targets: ["MCDNSModel"]),
        .library(name: "RecordStore", targets: ["RecordStore"]),
        .library(name: "DNSServer", targets: ["DNSServer"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "ClusterController", targets: ["ClusterController"]),
        .library(name: "KubeAPISimulator", targets: ["KubeAPISimulator"]),
        // For the nested test packages (Tests/Sanitized): loopback clients and hand-made queries.
        .library(name: "DNSTestSupport", targets: ["DNSTestSupport"]),
        .library(name: "DNSReferenceModel", targets: ["DNSReferenceModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C: the ldns headers (only DNSWire imports this) and the few syscalls Glibc does not show.
        .systemLibrary(
            name: "CLDNS",
            pkgConfig: "ldns",
            providers: [.apt(["libldns-dev"])]
        ),
        .target(name: "CMCDNSSys", exclude: ["README.md"]),

        // DNS half.
        .target(name: "DNSWire", dependencies: ["CLDNS"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "MCDNSModel", exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "DNSAnswer",
            dependencies: ["DNSWire", "MCDNSModel"],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "RecordStore",
            dependencies: ["DNSAnswer", "MCDNSModel", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "DNSServer",
            dependencies: [
                "RecordStore", "DNSAnswer", "MCDNSModel", "DNSWire", "CMCDNSSys",
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ] + nio,
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        // Kubernetes half.
        .target(
            name: "KubeClient",
            dependencies: [
                "MCDNSModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "ClusterTunnel",
            dependencies: [
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ] + nio,
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "ClusterController",
            dependencies: [
                "KubeClient", "MCDNSModel",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict
        ),

        // Composition root and command line.
        .target(
            name: "MCDNSDaemon",
            dependencies: [
                "DNSWire", "MCDNSModel", "DNSAnswer", "RecordStore", "DNSServer", "KubeClient", "ClusterController",
                "ClusterTunnel",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ] + nio,
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .target(
            name: "MCDNSCommands",
            dependencies: [
                "MCDNSDaemon", "DNSAnswer", "DNSWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ] + nio,
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(name: "mcdns", dependencies: ["MCDNSCommands"], exclude: ["README.md"], swiftSettings: strict),

        // Test support.
        .target(name: "DNSTestSupport", dependencies: ["DNSWire"] + nio, swiftSettings: strict),
        // The reference model of the answers (DESIGN §9): imports DNSWire and MCDNSModel, never DNSAnswer.
        .target(name: "DNSReferenceModel", dependencies: ["DNSWire", "MCDNSModel"], exclude: ["README.md"],
                swiftSettings: strict),

        // A Kubernetes API server on loopback for tests and demos; imports none of our modules (DESIGN §2).
        .target(
            name: "KubeAPISimulator",
            dependencies: [
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + nio,
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "mcdns-apisim",
            dependencies: [
                "KubeAPISimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire"], swiftSettings: strict),
        .testTarget(name: "DNSAnswerTests", dependencies: ["DNSAnswer", "DNSWire", "MCDNSModel", "DNSTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "DNSServerTests",
            dependencies: [
                "DNSServer", "CMCDNSSys", "RecordStore", "DNSAnswer", "DNSWire", "MCDNSModel", "DNSTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ] + nio,
            swiftSettings: strict
        ),
        .testTarget(
            name: "MCDNSDaemonTests",
            dependencies: [
                "MCDNSDaemon", "MCDNSCommands", "DNSWire", "DNSAnswer", "DNSTestSupport", "ClusterTunnel", "KubeClient",
                "KubeAPISimulator", "ClusterController", "MCDNSModel", .product(name: "Logging", package: "swift-log"), .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ModelBasedTests",
            dependencies: ["DNSReferenceModel", "RecordStore", "DNSAnswer", "DNSWire", "MCDNSModel",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        .testTarget(name: "MCDNSModelTests", dependencies: ["MCDNSModel"], swiftSettings: strict),
        .testTarget(name: "RecordStoreTests", dependencies: ["RecordStore", "DNSAnswer", "DNSWire", "MCDNSModel"], swiftSettings: strict),
        .testTarget(
            name: "ClusterTunnelTests",
            dependencies: [
                "ClusterTunnel", "DNSTestSupport",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ] + nio,
            swiftSettings: strict
        ),
        .testTarget(
            name: "KubeClientTests",
            dependencies: [
                "KubeClient", "DNSTestSupport", "KubeAPISimulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ClusterControllerTests",
            dependencies: [
                "ClusterController", "KubeClient", "MCDNSModel", "KubeAPISimulator", "DNSTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "IntegrationTests", dependencies: ["DNSWire", "DNSAnswer", "DNSTestSupport", "KubeAPISimulator"],
            exclude: ["Zones", "README.md"],
            swiftSettings: strict
        ),
        // The fuzz targets' checks (Tests/Fuzz/Sources/*/…Entry.swift, symlinked) over their seeds and findings.
        .testTarget(
            name: "FuzzReplayTests",
            dependencies: [
                "KubeClient", "ClusterController", "MCDNSDaemon", "ClusterTunnel", "DNSServer", "RecordStore", "DNSAnswer",
                "DNSWire", "MCDNSModel", .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ] + nio,
            swiftSettings: strict
        ),
        .testTarget(name: "PackageTests", dependencies: ["DNSTestSupport"], exclude: ["README.md"], swiftSettings: strict),
        .testTarget(
            name: "DeployTests",
            dependencies: ["DNSTestSupport", "KubeAPISimulator", .product(name: "Yams", package: "Yams")],
            exclude: ["README.md"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KubeAPISimulatorTests",
            dependencies: ["KubeAPISimulator", "DNSTestSupport", .product(name: "NIOHTTP1", package: "swift-nio")] + nio,
            swiftSettings: strict
        ),
    ]
)
