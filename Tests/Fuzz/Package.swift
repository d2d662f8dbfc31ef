// swift-tools-version: 6.0
// The libFuzzer target of mcdns, kept in its own package (as swift-protobuf's FuzzTesting is) so that the
// sanitizer build never touches the main build. Run it with ./run.sh SECONDS.
import PackageDescription

let package = Package(
    name: "MCDNSFuzz",
    dependencies: [
        .package(name: "mcdns", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "DNSFuzz",
            dependencies: [
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
            ]
        )
    ]
)
