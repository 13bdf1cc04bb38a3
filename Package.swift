// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Stepwise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stepwise", targets: ["stepwise"]),
        .executable(name: "cel-conformance", targets: ["cel-conformance"]),
        .library(name: "StepwiseExpressions", targets: ["StepwiseExpressions"]),
        .library(name: "StepwiseLanguage", targets: ["StepwiseLanguage"]),
        .library(name: "StepwiseRuntime", targets: ["StepwiseRuntime"]),
        .library(name: "StepwiseProtocol", targets: ["StepwiseProtocol"]),
        .library(name: "StepwiseEngine", targets: ["StepwiseEngine"]),
        .library(name: "StepwiseSQLite", targets: ["StepwiseSQLite"]),
        .library(name: "StepwisePostgres", targets: ["StepwisePostgres"]),
        .library(name: "StepwiseFuzzing", targets: ["StepwiseFuzzing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        .target(name: "StepwiseExpressions"),
        .target(
            name: "StepwiseLanguage",
            dependencies: ["StepwiseExpressions", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "StepwiseRuntime",
            dependencies: ["StepwiseExpressions", "StepwiseLanguage", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "StepwiseRunner",
            dependencies: [
                "StepwiseExpressions", "StepwiseLanguage", "StepwiseRuntime", "StepwiseProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "StepwiseProtocol",
            dependencies: ["StepwiseExpressions", "StepwiseLanguage", "StepwiseRuntime", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "StepwiseEngine",
            dependencies: [
                "StepwiseRuntime",
                "StepwiseProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .target(
            name: "StepwisePostgres",
            dependencies: [
                "StepwiseEngine", "StepwiseRuntime", "StepwiseProtocol",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "StepwiseSQLite",
            dependencies: ["StepwiseEngine", "StepwiseRuntime", "StepwiseProtocol", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "StepwiseServer",
            dependencies: [
                "StepwiseEngine",
                "StepwiseRunner",
                "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .target(name: "CMalloc"),
        .target(name: "CELConformance", dependencies: ["StepwiseExpressions"]),
        .executableTarget(
            name: "stepwise",
            dependencies: [
                "StepwiseExpressions",
                "StepwiseLanguage",
                "StepwiseServer",
                "StepwiseSQLite",
                "StepwisePostgres",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "cel-conformance",
            dependencies: [
                "CELConformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "StepwiseFuzzing", dependencies: ["StepwiseExpressions", "StepwiseLanguage"]),
        .executableTarget(
            name: "stepwise-fuzz",
            dependencies: [
                "StepwiseExpressions",
                "StepwiseLanguage",
                "StepwiseFuzzing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "StepwiseTesting",
            dependencies: [
                "StepwiseEngine", "StepwiseSQLite", "StepwisePostgres", "StepwiseServer", "StepwiseRunner",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "stepwise-benchmarks",
            dependencies: ["StepwiseExpressions", "StepwiseLanguage", "StepwiseRuntime"]
        ),
        // Linked into the test binary for its constructor: how many tests run at once.
        .target(name: "StepwiseTestParallelism", path: "Tests/StepwiseTestParallelism"),
        .testTarget(
            name: "StepwiseExpressionsTests",
            dependencies: ["StepwiseExpressions", "CELConformance"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "StepwiseRuntimeTests", dependencies: ["StepwiseRuntime", "StepwiseTesting"]),
        .testTarget(name: "StepwiseProtocolTests", dependencies: ["StepwiseProtocol"]),
        .testTarget(name: "StepwiseRunnerTests", dependencies: ["StepwiseRunner", "StepwiseTesting"]),
        .testTarget(
            name: "StepwiseEngineTests",
            dependencies: [
                "StepwiseEngine", "StepwiseSQLite", "StepwisePostgres", "StepwiseServer", "StepwiseTesting", "StepwiseRunner",
                "StepwiseTestParallelism",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "StepwiseLanguageTests",
            dependencies: ["StepwiseLanguage"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
