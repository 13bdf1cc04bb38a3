import StepwiseExpressions
import StepwiseRuntime

/// A run parked on an event.
public struct Waiter: Sendable, Equatable {
    public var runId: String
    public var workflow: String
    public var step: String
    public var event: String
    public var timeoutAt: TimestampValue
}
