import StepwiseExpressions
import StepwiseProtocol

/// What one published message does to the engine's state, decided by `PublicationPlanner` and
/// applied by the store in the same transaction as the rest of its batch.
public enum Publication: Sendable {
    /// Starts `run` (an `Upstash-Workflow-Init: true` message) with `initialBody` as log entry 0,
    /// delivered by `first`. A run of another workflow with that id refuses it (`runIdTaken`); one
    /// of the same URL still in progress refuses it too (`runInProgress`), unless the start is a
    /// repeat by the SDK or an invoke (`deduplicated`); an SDK run that ended is deleted to make way.
    /// A trigger `bySDK` of a run whose first delivery said `Upstash-Workflow-Unknown-Sdk` queues
    /// that delivery again instead, once, while the run has no step (`redelivered`).
    case startRun(RunRecord, initialBody: [UInt8], first: QueuedMessage, bySDK: Bool = false)
    /// Appends `entry` to the log of run `runId`, then queues `message` (for a `workflow`
    /// message its `logPosition` becomes the entry's position). An entry with the same
    /// `dedupeKey` as an earlier one is recorded once: the SDKs resend steps after network errors.
    case append(runId: String, entry: RawStep, dedupeKey: String?, message: QueuedMessage)
    /// Queues a plain message.
    case enqueue(QueuedMessage)

    /// The id of the message the answer names.
    public var messageId: String { queued.id }

    /// The destination the answer names.
    public var destination: String { queued.destination }

    /// The message it queues.
    public var queued: QueuedMessage {
        switch self {
        case .startRun(_, _, let first, _): first
        case .append(_, _, _, let message), .enqueue(let message): message
        }
    }

    /// The same publication as queued by a tick of QStash schedule `id`: a plain message names
    /// the schedule (the DLQ filters by it); a workflow start's runs have their own history.
    func queued(bySchedule id: String) -> Publication {
        guard case .enqueue(var message) = self else { return self }
        message.scheduleId = id
        return .enqueue(message)
    }
}

/// How the store applied one `Publication`.
public enum PublicationResult: Sendable, Equatable {
    /// Stored; the message id.
    case stored(String)
    /// A run's first delivery queued again (`Publication.startRun` by the SDK); the message id.
    case redelivered(String)
    /// The run or step existed already; the id of the message that stored it first.
    case deduplicated(String)
    /// The run to append to has ended with this status.
    case runEnded(RunStatus)
    /// No run has the id the message names.
    case unknownRun(String)
    /// A run of another workflow (another URL, or a YAML run) has the id a trigger chose.
    case runIdTaken(String)
    /// A run of the same workflow with the id a trigger chose is in progress (or its callbacks
    /// are still queued).
    case runInProgress(String)
    /// A step or wait names a YAML run, whose steps are its definition's: it has no log of the
    /// protocol and no endpoint.
    case yamlRun(String)
    /// The invoked run a trigger would start nests deeper than `RunRecord.maximumInvokeDepth`;
    /// the invoking run's id.
    case invokeTooDeep(String)
}
