import StepwiseExpressions

/// One named branch of a `parallel` step.
public struct ParallelBranch: Sendable {
    public var name: Located<String>
    public var steps: [Step]
}
