import Foundation
import Testing
import StepwiseLanguage

/// Every broken workflow in `Fixtures/invalid` must produce exactly the diagnostics its header
/// lists (`# expect: SW010 12:5`), so messages cannot silently move or disappear.
@Suite("Invalid workflow fixtures")
struct InvalidFixtureTests {
    struct Expectation: Hashable, CustomStringConvertible {
        var code: String
        var line: Int
        var column: Int
        var description: String { "\(code) \(line):\(column)" }
    }

    static func fixtures() throws -> [URL] {
        try FixtureDirectory.yamlFiles(in: FixtureDirectory.invalid)
    }

    static func knownWorkflows() throws -> Set<String> {
        let names = try FixtureDirectory.yamlFiles(in: FixtureDirectory.workflows).compactMap { url in
            WorkflowFile(path: url.path, source: try FixtureDirectory.text(of: url)).workflow?.name.value
        }
        return Set(names)
    }

    static func expectations(in source: String) -> Set<Expectation> {
        var expectations: Set<Expectation> = []
        for line in source.split(separator: "\n") where line.hasPrefix("# expect: ") {
            let parts = line.dropFirst("# expect: ".count).split(separator: " ")
            guard parts.count >= 2 else { continue }
            let position = parts[1].split(separator: ":").compactMap { Int($0) }
            guard position.count == 2 else { continue }
            expectations.insert(Expectation(code: String(parts[0]), line: position[0], column: position[1]))
        }
        return expectations
    }

    @Test("there are at least 40 fixtures, each expecting at least one diagnostic")
    func enoughFixtures() throws {
        let fixtures = try Self.fixtures()
        #expect(fixtures.count >= 40)
        for fixture in fixtures {
            #expect(!Self.expectations(in: try FixtureDirectory.text(of: fixture)).isEmpty, "\(fixture.lastPathComponent) expects nothing")
        }
    }

    @Test("each fixture produces exactly the diagnostics it expects", arguments: try fixtures())
    func fixtureDiagnostics(fixture: URL) throws {
        let source = try FixtureDirectory.text(of: fixture)
        let file = WorkflowFile(path: fixture.lastPathComponent, source: source, knownWorkflows: try Self.knownWorkflows())
        let actual = Set(file.diagnostics.map { Expectation(code: $0.code.rawValue, line: $0.span.line, column: $0.span.column) })
        let expected = Self.expectations(in: source)
        let details = file.diagnostics.map(\.description).joined(separator: "\n  ")
        #expect(actual == expected, "\(fixture.lastPathComponent): missing \(expected.subtracting(actual)), unexpected \(actual.subtracting(expected))\n  \(details)")
    }
}
