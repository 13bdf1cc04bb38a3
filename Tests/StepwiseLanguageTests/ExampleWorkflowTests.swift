import Foundation
import Testing
import StepwiseLanguage

/// The example workflows in `workflows/` are documentation users copy: each must be clean.
@Suite("Example workflows")
struct ExampleWorkflowTests {
    static func examples() throws -> [URL] {
        try FixtureDirectory.yamlFiles(in: FixtureDirectory.workflows)
    }

    @Test("every example validates without errors or warnings", arguments: try examples())
    func exampleIsClean(example: URL) throws {
        let names = Set(try Self.examples().compactMap { url in
            WorkflowFile(path: url.path, source: try FixtureDirectory.text(of: url)).workflow?.name.value
        })
        let file = WorkflowFile(path: example.lastPathComponent, source: try FixtureDirectory.text(of: example), knownWorkflows: names)
        #expect(file.workflow != nil)
        #expect(file.diagnostics.isEmpty, "\(file.diagnostics.map(\.description).joined(separator: "\n"))")
    }

    @Test("the examples use every step kind")
    func examplesCoverEveryKind() throws {
        var kinds: Set<String> = []
        for example in try Self.examples() {
            let file = WorkflowFile(path: example.path, source: try FixtureDirectory.text(of: example))
            for step in file.workflow?.allSteps ?? [] { kinds.insert(step.kind.keyword) }
        }
        #expect(kinds == Set(StepKind.keywords), "missing: \(Set(StepKind.keywords).subtracting(kinds))")
    }
}
