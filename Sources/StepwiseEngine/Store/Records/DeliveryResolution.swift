import StepwiseExpressions
import StepwiseRuntime

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
    /// Messages to queue when the change is applied (the notice to a `failure_url`).
    public var notices: [QueuedMessage] = []

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

    /// Whether a `notify` step is among the submissions: applying it may queue the results of
    /// SDK runs' waits.
    public var notifies: Bool {
        parks { if case .notify = $0 { true } else { false } }
    }

    /// The earliest end of the sleeps among the submissions: it may come within the engine's
    /// lookahead (`Configuration.sleepLookahead`). Read at every step, so it builds no array.
    public var earliestSleepEnd: TimestampValue? {
        var earliest: TimestampValue?
        for case .park(let operation) in submissions {
            guard case .sleep(let until) = operation.kind, earliest.map({ until < $0 }) ?? true else { continue }
            earliest = until
        }
        return earliest
    }

    /// Whether an operation of a kind `matches` accepts is among the submissions.
    private func parks(_ matches: (StepOperation.Kind) -> Bool) -> Bool {
        submissions.contains { submission in
            guard case .park(let operation) = submission else { return false }
            return matches(operation.kind)
        }
    }

    public static func == (lhs: DeliveryResolution, rhs: DeliveryResolution) -> Bool {
        lhs.submissions == rhs.submissions && lhs.children == rhs.children && lhs.next?.attempt == rhs.next?.attempt && lhs.next?.dueAt == rhs.next?.dueAt
            && lhs.status == rhs.status && lhs.phase == rhs.phase && lhs.output == rhs.output && lhs.error == rhs.error
            && lhs.record == rhs.record && lhs.notices.map(\.id) == rhs.notices.map(\.id)
    }
}
