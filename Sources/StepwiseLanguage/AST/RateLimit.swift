import StepwiseExpressions

/// `rate_limit: {key, limit, period}`: at most `limit` deliveries per `period` per key.
public struct RateLimit: Sendable {
    public var key: ValueTemplate
    public var limit: Located<Int>
    public var period: Located<DurationValue>
}
