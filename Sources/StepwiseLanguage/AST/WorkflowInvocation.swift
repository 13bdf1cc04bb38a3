import StepwiseExpressions

/// `invoke: {workflow, input}`: another workflow of the same runner.
public struct WorkflowInvocation: Sendable {
    public var workflow: Located<String>
    public var input: ValueTemplate?
}
