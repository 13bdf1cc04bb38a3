import StepwiseLanguage
import StepwiseRuntime

/// A validated definition of `yaml`; records the errors as issues when it does not validate.
public func definition(_ yaml: String) throws -> WorkflowDefinition {
    let file = WorkflowFile(path: "test.yaml", source: yaml)
    let errors = file.diagnostics.filter { $0.severity == .error }
    guard errors.isEmpty, let workflow = file.workflow else {
        throw TestWorkflowError(description: "the test workflow has errors:\n" + errors.map(\.description).joined(separator: "\n"))
    }
    return WorkflowDefinition(workflow: workflow, source: yaml)
}

/// A test's own workflow that does not validate.
public struct TestWorkflowError: Error, CustomStringConvertible {
    public let description: String

    init(description: String) {
        self.description = description
    }
}
