import ArgumentParser
import CELConformance

/// `cel-conformance DIR`: runs the CEL specification's conformance cases against Stepwise's
/// expression engine and prints `N passed, N failed`.
@main
struct CELConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cel-conformance",
        abstract: "Run CEL conformance cases (JSON, from google/cel-spec) and report how many pass."
    )

    @Argument(help: "Directory of conformance JSON files, e.g. ../shared/conformance/cel.")
    var directory: String

    @Flag(name: .long, help: "Name each failing case and why it failed.")
    var listFailures = false

    func run() throws {
        let cases = try ConformanceSuite.load(directory: directory)
        var failed = 0
        for testCase in cases {
            guard let reason = testCase.run() else { continue }
            failed += 1
            if listFailures { print("FAIL \(testCase.identifier): \(reason)\n     \(testCase.expression)") }
        }
        print("\(cases.count - failed) passed, \(failed) failed")
    }
}
