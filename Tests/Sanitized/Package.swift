// swift-tools-version: 6.0
// The answer compiler's and the record store's test suites and the model-based randomized test again, built with
// a sanitizer (`make test-asan`: AddressSanitizer). A package of its own, as Tests/Fuzz is, whose targets need only DNSAnswer, RecordStore,
// DNSWire, MCDNSModel and DNSTestSupport (with NIOCore and NIOPosix): `swift test --sanitize=address` on the root
// package would build every test target and SSL and Hummingbird again. The test sources are the root package's
// (Tests/ holds symlinks to them).
import PackageDescription

// SANITIZED: the few expectations that differ under a sanitizer (its allocator declines mallopt) say so.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .define("SANITIZED"),
]

let package = Package(
    name: "MCDNSSanitized",
    dependencies: [
        .package(name: "mcdns", path: "../.."),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .testTarget(
            name: "DNSAnswerTests",
            dependencies: [
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSTestSupport", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
                .product(name: "MCDNSModel", package: "mcdns"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RecordStoreTests",
            dependencies: [
                .product(name: "RecordStore", package: "mcdns"),
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
                .product(name: "MCDNSModel", package: "mcdns"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "ModelBasedTests",
            dependencies: [
                .product(name: "DNSReferenceModel", package: "mcdns"),
                .product(name: "RecordStore", package: "mcdns"),
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
                .product(name: "MCDNSModel", package: "mcdns"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
