import StepwiseExpressions

/// One case of a `switch`: `when` (absent for `default`) and its steps.
public struct SwitchCase: Sendable {
    /// `nil` for the `default` case.
    public var condition: ValueTemplate?
    public var steps: [Step]
    public var span: SourceSpan
}
