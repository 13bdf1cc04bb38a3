import StepwiseExpressions

/// `concurrency: {key, limit}`: at most `limit` deliveries in flight per key.
public struct Concurrency: Sendable {
    public var key: ValueTemplate
    public var limit: Located<Int>
}
