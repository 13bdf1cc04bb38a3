import StepwiseExpressions

/// Something that happened to a run on this node, for the change feed (`GET /api/events`,
/// `GET /api/runs/{id}/events`): started, a step recorded, retrying or waiting, finished.
public struct RunEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable {
        case started
        /// A step's result was journaled.
        case stepRecorded = "step"
        /// A step failed and will be tried again.
        case retrying
        /// The run waits for a sleep, an event, a call or a child run.
        case waiting
        case finished
    }

    public let kind: Kind
    public let runId: String
    /// The run's workflow, when the engine had it at hand.
    public let workflow: String?
    /// The step concerned, if any.
    public let step: String?
    /// The run's status after the event.
    public let status: RunStatus
    public let at: TimestampValue

    public init(kind: Kind, runId: String, workflow: String?, step: String? = nil, status: RunStatus, at: TimestampValue) {
        self.kind = kind
        self.runId = runId
        self.workflow = workflow
        self.step = step
        self.status = status
        self.at = at
    }
}
