// swift-tools-version:6.1
// Coverage-guided fuzzing of the workflow language with libFuzzer. Build with the flags in
// scripts/libfuzzer.sh (`-sanitize=fuzzer` instruments the code and links libFuzzer); each
// target's entry hands over to libFuzzer's driver and calls the same exercise as `stepwise-fuzz`.
import PackageDescription

let package = Package(
    name: "StepwiseLibFuzzer",
    dependencies: [.package(name: "Stepwise", path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "LibFuzzerEntry", dependencies: ["CLibFuzzer"]),
        .executableTarget(name: "fuzz-yaml", dependencies: ["LibFuzzerEntry", .product(name: "StepwiseFuzzing", package: "Stepwise")]),
        .executableTarget(
            name: "fuzz-expressions", dependencies: ["LibFuzzerEntry", .product(name: "StepwiseFuzzing", package: "Stepwise")]),
    ],
    swiftLanguageModes: [.v6]
)
