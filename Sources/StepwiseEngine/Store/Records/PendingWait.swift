import StepwiseExpressions

/// A YAML run's step waiting for an event: the event's id (rendered from the step's template)
/// and when the wait times out, so that an operator can send it without working out the id.
public struct PendingWait: Sendable, Equatable {
    public var step: String
    public var event: String
    public var timeoutAt: TimestampValue

    /// Step `step` waiting for `event` until `timeoutAt`.
    public init(step: String, event: String, timeoutAt: TimestampValue) {
        self.step = step
        self.event = event
        self.timeoutAt = timeoutAt
    }
}
