// swift-tools-version:6.2
import PackageDescription

/// Passback: a OneRoster 1.1 grade-passback gateway. See README.md and ../shared/docs/ARCHITECTURE.md.
let package = Package(
    name: "passback",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "passback", targets: ["passback"]),
        .executable(name: "passbackctl", targets: ["passbackctl"]),
        .library(name: "OneRoster", targets: ["OneRoster"]),
        .library(name: "OneRosterSandbox", targets: ["OneRosterSandbox"])
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
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/GraphQLSwift/GraphQL", exact: "4.3.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // Tests only: clocks the tests move (`TestClock`, `ImmediateClock`).
        .package(url: "https://github.com/pointfreeco/swift-clocks", exact: "1.1.1")
    ],
    targets: [
        .target(name: "OneRosterModels", exclude: ["README.md"]),
        .target(
            name: "OneRoster",
            dependencies: [
                "OneRosterModels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation")
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "OneRosterSandbox",
            dependencies: [
                "OneRoster",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types")
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "PassbackCore",
            dependencies: ["OneRosterModels", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["README.md"]
        ),
        .target(
            name: "PassbackStore",
            dependencies: [
                "PassbackCore", "OneRosterModels", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift")
            ],
            exclude: ["README.md"],
            plugins: ["EmbedMigrations"]
        ),
        .target(
            name: "PassbackConfig",
            dependencies: [
                "PassbackCore", "OneRoster",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system")
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "PassbackSync",
            dependencies: [
                "PassbackCore", "PassbackStore", "OneRoster", "PassbackConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ],
            exclude: ["README.md"]
        ),
        .target(
            name: "PassbackGateway",
            dependencies: [
                "PassbackCore", "PassbackStore", "PassbackSync", "PassbackConfig", "OneRoster",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections")
            ],
            exclude: ["README.md"],
            plugins: ["EmbedMigrations"]
        ),
        .executableTarget(
            name: "passback-embed-sql",
            path: "Sources/passback-embed-sql"
        ),
        .plugin(
            name: "EmbedMigrations",
            capability: .buildTool(),
            dependencies: ["passback-embed-sql"]
        ),
        .executableTarget(
            name: "passback",
            dependencies: [
                "OneRoster",
                "OneRosterSandbox",
                "PassbackCore",
                "PassbackStore",
                "PassbackSync",
                "PassbackConfig",
                "PassbackGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log")
            ]
        ),
        .executableTarget(
            name: "passback-bench",
            dependencies: [
                "PassbackGateway", "PassbackStore", "PassbackCore", "OneRoster", "OneRosterSandbox", "PassbackTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "Hummingbird", package: "hummingbird")
            ],
            path: "Benchmarks/Harness"
        ),
        .executableTarget(
            name: "passbackctl",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Crypto", package: "swift-crypto")],
            path: "Clients/cli",
            exclude: ["documents"],
            plugins: ["EmbedMigrations"]
        ),
        .target(name: "PassbackTesting", path: "Tests/PassbackTesting", exclude: ["README.md"]),
        .testTarget(
            name: "OneRosterTests",
            dependencies: ["OneRoster", "OneRosterSandbox", "PassbackTesting", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "PassbackCoreTests", dependencies: ["PassbackCore", "OneRosterModels"]),
        .testTarget(
            name: "PassbackGatewayTests",
            dependencies: [
                "PassbackGateway", "PassbackStore", "PassbackSync", "PassbackCore", "OneRoster", "OneRosterSandbox", "passbackctl", "passback",
                "PassbackTesting",
                .product(name: "GraphQL", package: "GraphQL"), .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "CryptoExtras", package: "swift-crypto")
            ]
        ),
        .testTarget(
            name: "PassbackStoreTests",
            dependencies: ["PassbackStore", "PassbackCore", "PassbackTesting", "OneRosterSandbox", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "PassbackSyncTests",
            dependencies: [
                "PassbackSync", "PassbackStore", "PassbackCore", "OneRoster", "OneRosterSandbox", "passback", "PassbackTesting",
                .product(name: "Clocks", package: "swift-clocks")
            ]
        ),
        .testTarget(
            name: "OneRosterSandboxTests",
            dependencies: ["OneRoster", "OneRosterSandbox"]
        )
    ]
)
