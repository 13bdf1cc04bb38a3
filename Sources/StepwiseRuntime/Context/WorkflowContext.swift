import StepwiseExpressions

/// The durable step-replay context of one delivery (Upstash Workflow's `context`): steps whose
/// results are in the journal are replayed; the first step without a result is executed and
/// submitted, which ends the delivery. Exactly one new durable step per delivery.
///
/// A journal entry that does not match the step at its position (name or kind) is a replay error
/// naming both, never silent corruption.
public final class WorkflowContext {
    public let runId: String
    public let workflowName: String
    public let startedAt: TimestampValue
    /// The time of this delivery; durations (sleeps) are measured from it.
    public let now: TimestampValue
    /// How many times this delivery has been tried before (0 on the first try).
    public let attempt: Int
    private let journal: [JournalEntry]
    /// Index of the next journal entry to replay; entry 0 is the input.
    public private(set) var position = 1
    /// When false, reaching a step without a journaled result ends the walk with
    /// `.journalExhausted` instead of executing it (used to rebuild state before `on_failure`).
    public var acceptsNewSteps = true

    public init(runId: String, workflowName: String, journal: [JournalEntry], startedAt: TimestampValue, now: TimestampValue, attempt: Int) {
        self.runId = runId
        self.workflowName = workflowName
        self.journal = journal
        self.startedAt = startedAt
        self.now = now
        self.attempt = attempt
    }

    /// The run's input, from the initial entry.
    public var input: Value { journal.first?.out ?? .null }

    /// Whether every journal entry has been replayed (the next durable step is new).
    public var isReplaying: Bool { position < journal.count }

    /// The journaled entry for the next durable step, checked against `name` and `type`, or `nil`
    /// when the step has not run yet.
    public func replay(_ name: String, _ type: StepType) throws(StepInterruption) -> JournalEntry? {
        guard position < journal.count else { return nil }
        let entry = journal[position]
        guard entry.stepName == name, entry.stepType == type else {
            throw .replayMismatch(
                "journal entry \(position) is \(entry.stepType.rawValue) '\(entry.stepName)', but the workflow reaches \(type.rawValue) '\(name)' there; was the definition changed under a running run?")
        }
        position += 1
        return entry
    }

    /// Moves past `count` entries known to match (a warm runner resuming from its memory).
    func skip(_ count: Int) {
        position = min(journal.count, position + count)
    }

    /// Submits a new step: builds its entry at the current position and ends the delivery.
    public func submit(_ name: String, _ type: StepType, out: Value?, error: StepError? = nil, action: StepSubmission.Action = .record) throws(StepInterruption) -> Never {
        guard acceptsNewSteps else { throw .journalExhausted }
        var entry = JournalEntry(stepId: position, stepName: name, stepType: type, out: out, error: error)
        if case .resume(let until) = action, type == .sleepUntil || type == .sleepFor {
            entry.sleepUntil = until.secondsSinceEpoch
        }
        throw .submit(StepSubmission(entry: entry, action: action))
    }

    /// Runs `body` as a durable step named `name`, or returns its journaled result.
    public func run(_ name: String, _ body: () async throws -> Value) async throws -> Value {
        if let entry = try replay(name, .run) {
            if let error = entry.error { throw error }
            return entry.out ?? .null
        }
        let value = try await body()
        try submit(name, .run, out: value)
    }

    /// Pauses the run for `duration` (measured from this delivery), or returns at once when the
    /// sleep is journaled. The result is `{until}`.
    public func sleep(_ name: String, for duration: DurationValue) throws(StepInterruption) -> Value {
        if let entry = try replay(name, .sleepFor) { return entry.out ?? .null }
        let until: TimestampValue
        do {
            until = try now.adding(duration)
        } catch {
            throw .retry(after: .zero, error: StepError(message: error.message, type: "SleepError", step: name))
        }
        try submit(name, .sleepFor, out: ["until": .string(until.description)], action: .resume(at: until))
    }

    /// Pauses the run until `instant`, or returns at once when the sleep is journaled.
    public func sleepUntil(_ name: String, _ instant: TimestampValue) throws(StepInterruption) -> Value {
        if let entry = try replay(name, .sleepUntil) { return entry.out ?? .null }
        try submit(name, .sleepUntil, out: ["until": .string(instant.description)], action: .resume(at: instant))
    }
}
