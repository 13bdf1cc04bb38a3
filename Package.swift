// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Stepwise",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stepwise", targets: ["stepwise"]),
        .executable(name: "cel-conformance", targets: ["cel-conformance"]),
        .library(name: "StepwiseExpressions", targets: ["StepwiseExpressions"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "StepwiseExpressions"),
        .target(name: "CELConformance", dependencies: ["StepwiseExpressions"]),
        .executableTarget(
            name: "stepwise",
            dependencies: [
                "StepwiseExpressions",
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
        .testTarget(
            name: "StepwiseExpressionsTests",
            dependencies: ["StepwiseExpressions", "CELConformance"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
