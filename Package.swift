// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "credits-desk",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "credits", targets: ["credits"]),
        .library(name: "CreditsCore", targets: ["CreditsCore"]),
        .library(name: "CreditsStore", targets: ["CreditsStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/hummingbird-project/swift-openapi-hummingbird", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Benchmarks only (Benchmarks/); the interposer counts allocations.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The pure domain: no I/O, no clock, no database. Every rule of RULES.md lives here once.
        .target(name: "CreditsCore"),
        // Persistence: migrations, the SQL store, the hash-chained ledger and its verification.
        .target(
            name: "CreditsStore",
            dependencies: [
                "CreditsCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // HTTP: the JSON API generated from openapi.yaml, the portal's pages, authentication, idempotency, operations routes.
        .target(
            name: "CreditsServer",
            dependencies: [
                "CreditsCore",
                "CreditsStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIHummingbird", package: "swift-openapi-hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("openapi.yaml"), .copy("Portal/Templates"), .copy("Portal/portal.css")],
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        .executableTarget(
            name: "credits",
            dependencies: [
                "CreditsCore",
                "CreditsStore",
                "CreditsServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `swift package benchmark`: time, instructions and allocations of the hot paths.
        .executableTarget(
            name: "CreditsBenchmarks",
            dependencies: ["CreditsCore", "CreditsStore", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/CreditsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .testTarget(name: "CreditsCoreTests", dependencies: ["CreditsCore"]),
        .testTarget(
            name: "CreditsServerTests",
            dependencies: [
                "CreditsCore", "CreditsStore", "CreditsServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]),
        .testTarget(
            name: "CreditsStoreTests",
            dependencies: ["CreditsCore", "CreditsStore", .product(name: "SQLKit", package: "sql-kit")]),
        .testTarget(
            name: "CreditsCLITests",
            dependencies: ["CreditsCore", "CreditsStore", .product(name: "SQLKit", package: "sql-kit")]),
    ]
)
