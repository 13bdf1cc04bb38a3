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
    /// For a run started by an `invoke` step: the parent run and the step waiting for this one.
    public var parent: (runId: String, step: String)?
    /// Flow control: the run's keys, evaluated at start, with the limits of its definition.
    public var flowControl: FlowControl?

    public init(
        id: String, workflow: String, definitionHash: String, input: Value, status: RunStatus = .running,
        phase: RunPhase = .main, createdAt: TimestampValue, updatedAt: TimestampValue, output: Value? = nil, error: StepError? = nil,
        parent: (runId: String, step: String)? = nil, flowControl: FlowControl? = nil
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
        self.parent = parent
        self.flowControl = flowControl
    }

    public static func == (lhs: RunRecord, rhs: RunRecord) -> Bool {
        lhs.id == rhs.id && lhs.workflow == rhs.workflow && lhs.definitionHash == rhs.definitionHash && lhs.input == rhs.input
            && lhs.status == rhs.status && lhs.phase == rhs.phase && lhs.createdAt == rhs.createdAt && lhs.updatedAt == rhs.updatedAt
            && lhs.output == rhs.output && lhs.error == rhs.error && lhs.parent?.runId == rhs.parent?.runId
            && lhs.parent?.step == rhs.parent?.step && lhs.flowControl == rhs.flowControl
    }
}

/// The flow-control settings of a run: at most `concurrencyLimit` deliveries in flight per
/// `concurrencyKey`, at most `rateLimit` started per `ratePeriod` per `rateKey`.
public struct FlowControl: Sendable, Equatable {
    public var concurrencyKey: String?
    public var concurrencyLimit: Int?
    public var rateKey: String?
    public var rateLimit: Int?
    /// Milliseconds.
    public var ratePeriod: Int64?

    public init(concurrencyKey: String? = nil, concurrencyLimit: Int? = nil, rateKey: String? = nil, rateLimit: Int? = nil, ratePeriod: Int64? = nil) {
        self.concurrencyKey = concurrencyKey
        self.concurrencyLimit = concurrencyLimit
        self.rateKey = rateKey
        self.rateLimit = rateLimit
        self.ratePeriod = ratePeriod
    }
}

/// A message waiting to be processed at a due time: the next delivery of a run, the timer of a
/// pending operation (a sleep ends, a retry is due, a wait times out), or a call to perform.
public struct PendingMessage: Sendable, Equatable {
    /// What the message is for.
    public enum Kind: String, Sendable {
        case deliver
        case timer
        case call
    }

    public var id: Int64
    public var runId: String
    public var kind: Kind
    /// For timers and calls: the step whose operation it belongs to.
    public var stepName: String?
    public var attempt: Int
    public var dueAt: TimestampValue
    /// When this node claimed it (flow control admits deliveries at that instant).
    public var claimedAt: TimestampValue?

    public init(id: Int64, runId: String, kind: Kind = .deliver, stepName: String? = nil, attempt: Int, dueAt: TimestampValue) {
        self.id = id
        self.runId = runId
        self.kind = kind
        self.stepName = stepName
        self.attempt = attempt
        self.dueAt = dueAt
    }
}

/// What a delivery is handed besides the journal: the steps the engine is still completing and
/// the failed tries of steps being retried.
public struct RunProgress: Sendable, Equatable {
    public var journal: [JournalEntry]
    public var pending: Set<String>
    public var failures: [String: Int]
}

/// A run parked on an event.
public struct Waiter: Sendable, Equatable {
    public var runId: String
    public var workflow: String
    public var step: String
    public var event: String
    public var timeoutAt: TimestampValue
}

/// What a notification did: the runs it woke, and whether it was kept for a run not waiting yet.
public struct NotifyResult: Sendable, Equatable {
    public var woken: [String]
    public var stored: Bool
}

/// A failed run kept for resume or restart.
public struct DeadLetter: Sendable, Equatable {
    public var id: String
    public var runId: String
    public var workflow: String
    public var failedStep: String?
    public var error: StepError?
    public var createdAt: TimestampValue
}

/// A workflow's `schedule` entry as the engine keeps it, with its next fire time.
public struct ScheduleRecord: Sendable, Equatable {
    public var workflow: String
    public var position: Int
    public var cron: String
    public var timeZone: String?
    public var input: Value
    public var nextFireAt: TimestampValue?
    public var lastFireAt: TimestampValue?

    public init(workflow: String, position: Int, cron: String, timeZone: String?, input: Value, nextFireAt: TimestampValue?, lastFireAt: TimestampValue? = nil) {
        self.workflow = workflow
        self.position = position
        self.cron = cron
        self.timeZone = timeZone
        self.input = input
        self.nextFireAt = nextFireAt
        self.lastFireAt = lastFireAt
    }
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
    /// New durable steps: entries to append and operations to start.
    public var submissions: [StepSubmission]
    /// The runs to start for `invoke` operations, by step name.
    public var children: [String: RunRecord]
    /// The run's next delivery when no appended entry already calls for one: its attempt number
    /// and due time; `nil` when the run ends or waits for an operation.
    public var next: (attempt: Int, dueAt: TimestampValue)?
    public var status: RunStatus
    public var phase: RunPhase
    public var output: Value?
    public var error: StepError?
    public var record: AttemptRecord

    public init(
        submissions: [StepSubmission] = [], children: [String: RunRecord] = [:], next: (attempt: Int, dueAt: TimestampValue)?,
        status: RunStatus, phase: RunPhase, output: Value? = nil, error: StepError? = nil, record: AttemptRecord
    ) {
        self.submissions = submissions
        self.children = children
        self.next = next
        self.status = status
        self.phase = phase
        self.output = output
        self.error = error
        self.record = record
    }

    public static func == (lhs: DeliveryResolution, rhs: DeliveryResolution) -> Bool {
        lhs.submissions == rhs.submissions && lhs.children == rhs.children && lhs.next?.attempt == rhs.next?.attempt && lhs.next?.dueAt == rhs.next?.dueAt
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
