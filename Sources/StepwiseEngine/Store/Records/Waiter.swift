import StepwiseExpressions
import StepwiseRuntime

/// A run parked on an event.
public struct Waiter: Sendable, Equatable {
    public var runId: String
    public var workflow: String
    public var step: String
    public var event: String
    public var timeoutAt: TimestampValue

    /// A run parked on `event` at its step `step` until `timeoutAt`.
    public init(runId: String, workflow: String, step: String, event: String, timeoutAt: TimestampValue) {
        self.runId = runId
        self.workflow = workflow
        self.step = step
        self.event = event
        self.timeoutAt = timeoutAt
    }
}
