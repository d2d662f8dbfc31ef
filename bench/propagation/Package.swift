// swift-tools-version: 6.0
import PackageDescription

// Run by bench/propagation.sh, never by `make test`: simulators in this process, `mcdns serve` as a subprocess.
let package = Package(
    name: "PropagationBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "mcdns", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "PropagationBench",
            dependencies: [
                .product(name: "KubeAPISimulator", package: "mcdns"),
            ]
        )
    ]
)
