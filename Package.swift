// swift-tools-version:6.2
import PackageDescription

/// Passback: a OneRoster 1.1 grade-passback gateway. See README.md and ../shared/docs/ARCHITECTURE.md.
let package = Package(
    name: "passback",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "passback", targets: ["passback"]),
        .library(name: "OneRoster", targets: ["OneRoster"]),
        .library(name: "OneRosterSandbox", targets: ["OneRosterSandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .target(
            name: "OneRoster",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        .target(
            name: "OneRosterSandbox",
            dependencies: [
                "OneRoster",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .executableTarget(
            name: "passback",
            dependencies: [
                "OneRoster",
                "OneRosterSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "OneRosterTests", dependencies: ["OneRoster"]),
        .testTarget(
            name: "OneRosterSandboxTests",
            dependencies: ["OneRoster", "OneRosterSandbox"]
        ),
    ]
)
