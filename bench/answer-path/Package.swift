// swift-tools-version: 6.0
import PackageDescription

// Instructions per answered query on the compiled answer path, for callgrind (bench/answer-path.sh). Synchronous
// top-level code, as mcdns's own main: valgrind 3.19 cannot follow an async main's dispatchMain() sigsuspend.
let package = Package(
    name: "AnswerPath",
    dependencies: [.package(name: "mcdns", path: "../..")],
    targets: [
        .executableTarget(
            name: "AnswerPath",
            dependencies: [
                .product(name: "DNSAnswer", package: "mcdns"),
                .product(name: "DNSWire", package: "mcdns"),
            ]
        )
    ]
)
