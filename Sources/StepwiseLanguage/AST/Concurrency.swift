import StepwiseExpressions

/// `concurrency: {key, limit}`: at most `limit` deliveries in flight per key.
public struct Concurrency: Sendable {
    public var key: ValueTemplate
    public var limit: Located<Int>

    /// What the flow-control keys of QStash queues start with: a workflow's `concurrency` and
    /// `rate_limit` keys may not, or its runs would wait on a queue's slots and pauses.
    public static let reservedKeyPrefix = "queue:"
}
