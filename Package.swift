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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.0"),
    ],
    targets: [
        .target(name: "StepwiseExpressions"),
        .target(
            name: "StepwiseLanguage",
            dependencies: ["StepwiseExpressions", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "StepwiseRuntime", dependencies: ["StepwiseExpressions", "StepwiseLanguage"]),
        .target(name: "CELConformance", dependencies: ["StepwiseExpressions"]),
        .executableTarget(
            name: "stepwise",
            dependencies: [
                "StepwiseExpressions",
                "StepwiseLanguage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "cel-conformance",
            dependencies: [
                "CELConformance",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "stepwise-benchmarks",
            dependencies: ["StepwiseExpressions", "StepwiseLanguage"]
        ),
        .testTarget(
            name: "StepwiseExpressionsTests",
            dependencies: ["StepwiseExpressions", "CELConformance"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "StepwiseRuntimeTests", dependencies: ["StepwiseRuntime"]),
        .testTarget(
            name: "StepwiseLanguageTests",
            dependencies: ["StepwiseLanguage"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
