import StepwiseExpressions

/// `fail: {message, type}`.
public struct Failure: Sendable {
    public var message: ValueTemplate
    public var type: ValueTemplate?
}
