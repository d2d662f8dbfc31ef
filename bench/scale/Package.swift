// swift-tools-version: 6.0
import PackageDescription

// Run by bench/scale.sh, never by `make test`: it builds the root package's libraries in release mode.
let package = Package(
    name: "ScaleBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "mcdns", path: "../.."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CHeapStats"),
        .executableTarget(
            name: "ScaleBench",
            dependencies: [
                "CHeapStats",
                .product(name: "ClusterController", package: "mcdns"),
                .product(name: "KubeClient", package: "mcdns"),
                .product(name: "RecordStore", package: "mcdns"),
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
                .product(name: "MCDNSModel", package: "mcdns"),
                .product(name: "Logging", package: "swift-log"),
            ]
        )
    ]
)
