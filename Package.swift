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
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
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
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "credits",
            dependencies: [
                "CreditsCore",
                "CreditsStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "CreditsCoreTests", dependencies: ["CreditsCore"]),
        .testTarget(
            name: "CreditsStoreTests",
            dependencies: ["CreditsCore", "CreditsStore", .product(name: "SQLKit", package: "sql-kit")]),
        .testTarget(
            name: "CreditsCLITests",
            dependencies: ["CreditsCore", "CreditsStore", .product(name: "SQLKit", package: "sql-kit")]),
    ]
)
