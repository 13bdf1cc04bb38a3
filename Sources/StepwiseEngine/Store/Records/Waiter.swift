import StepwiseExpressions
import StepwiseProtocol
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

    /// A waiter as the stores keep its operation: a YAML run's wait under its step's name, an SDK
    /// run's (`kind` `endpoint-wait`) under its step's id, whose name is read from the kept wait.
    public init(runId: String, workflow: String, kind: String, stepKey: String, payload: String?, event: String, timeoutAt: TimestampValue) {
        var step = stepKey
        if kind == "endpoint-wait", let wait = StoredJSON.decode(EndpointWait.self, from: payload),
            let json = try? StepJSON(bytes: Array(wait.step.utf8))
        {
            step = json.stepName
        }
        self.init(runId: runId, workflow: workflow, step: step, event: event, timeoutAt: timeoutAt)
    }
}
