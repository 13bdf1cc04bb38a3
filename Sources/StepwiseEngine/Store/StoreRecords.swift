import StepwiseExpressions
import StepwiseRuntime

/// Which part of a run is being delivered: its steps, or `on_failure` after it failed.
public enum RunPhase: String, Sendable, Hashable, Codable {
    case main
    case failureHandler = "failure_handler"
}

/// A run as the store keeps it.
public struct RunRecord: Sendable, Equatable {
    public var id: String
    public var workflow: String
    public var definitionHash: String
    public var input: Value
    public var status: RunStatus
    public var phase: RunPhase
    public var createdAt: TimestampValue
    public var updatedAt: TimestampValue
    public var output: Value?
    public var error: StepError?

    public init(
        id: String, workflow: String, definitionHash: String, input: Value, status: RunStatus = .running,
        phase: RunPhase = .main, createdAt: TimestampValue, updatedAt: TimestampValue, output: Value? = nil, error: StepError? = nil
    ) {
        self.id = id
        self.workflow = workflow
        self.definitionHash = definitionHash
        self.input = input
        self.status = status
        self.phase = phase
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.output = output
        self.error = error
    }
}

/// A message waiting to be delivered: the next delivery of a run, due at a time.
public struct PendingMessage: Sendable, Equatable {
    public var id: Int64
    public var runId: String
    public var attempt: Int
    public var dueAt: TimestampValue
}

/// A definition the engine has seen, kept forever so that runs pinned to it can finish.
public struct StoredDefinition: Sendable, Equatable {
    public var hash: String
    public var workflow: String
    public var source: String
}

/// One try of one delivery, for `stepwise logs` and debugging.
public struct AttemptRecord: Sendable, Equatable {
    public var runId: String
    /// The journal length when the delivery was made (the position of the step it tried).
    public var position: Int
    public var attempt: Int
    public var startedAt: TimestampValue
    public var finishedAt: TimestampValue
    /// `submitted`, `retry`, `completed`, `failed`, `rejected`, `error`.
    public var outcome: String
    public var detail: String?

    public init(runId: String, position: Int, attempt: Int, startedAt: TimestampValue, finishedAt: TimestampValue, outcome: String, detail: String?) {
        self.runId = runId
        self.position = position
        self.attempt = attempt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.detail = detail
    }
}

/// Everything that changes when a delivery finishes, applied in one transaction.
public struct DeliveryResolution: Sendable, Equatable {
    /// The entry to append at the end of the journal.
    public var entry: JournalEntry?
    /// The run's next delivery: its attempt number and due time; `nil` when the run ends.
    public var next: (attempt: Int, dueAt: TimestampValue)?
    public var status: RunStatus
    public var phase: RunPhase
    public var output: Value?
    public var error: StepError?
    public var record: AttemptRecord

    public init(
        entry: JournalEntry? = nil, next: (attempt: Int, dueAt: TimestampValue)?, status: RunStatus, phase: RunPhase,
        output: Value? = nil, error: StepError? = nil, record: AttemptRecord
    ) {
        self.entry = entry
        self.next = next
        self.status = status
        self.phase = phase
        self.output = output
        self.error = error
        self.record = record
    }

    public static func == (lhs: DeliveryResolution, rhs: DeliveryResolution) -> Bool {
        lhs.entry == rhs.entry && lhs.next?.attempt == rhs.next?.attempt && lhs.next?.dueAt == rhs.next?.dueAt
            && lhs.status == rhs.status && lhs.phase == rhs.phase && lhs.output == rhs.output && lhs.error == rhs.error
            && lhs.record == rhs.record
    }
}

/// Filters of run listings.
public struct RunFilter: Sendable, Equatable {
    public var workflow: String?
    public var status: RunStatus?
    public var limit: Int

    public init(workflow: String? = nil, status: RunStatus? = nil, limit: Int = 100) {
        self.workflow = workflow
        self.status = status
        self.limit = limit
    }
}
