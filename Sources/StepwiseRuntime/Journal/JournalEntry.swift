import StepwiseExpressions

/// One persisted step result of a run, in the shape of Upstash Workflow's step JSON
/// (`stepId`, `stepName`, `stepType`, `out`, `concurrent`, `targetStep`, …), so that speaking the
/// QStash protocol later is transport work only. Entry 0 is the run's input (`Initial`).
public struct JournalEntry: Sendable, Equatable {
    /// 1-based position of the step in the run (0 for the initial entry).
    public var stepId: Int
    /// The step's structural path with iteration indices (`fanout[3].send`).
    public var stepName: String
    public var stepType: StepType
    /// The step's result; `nil` for steps without one (a sleep).
    public var out: Value?
    /// 1 for sequential steps; the group size for members of a parallel group.
    public var concurrent: Int
    /// For plan entries of a parallel group: the step the plan is for.
    public var targetStep: Int?
    /// `SleepFor`: the duration in seconds. `SleepUntil`: the instant as unix seconds.
    public var sleepFor: Int64?
    public var sleepUntil: Int64?
    /// Stepwise extension: the step failed after its retries, and this is why (its `catch` ran).
    public var error: StepError?

    public init(
        stepId: Int, stepName: String, stepType: StepType, out: Value? = nil, concurrent: Int = 1,
        targetStep: Int? = nil, sleepFor: Int64? = nil, sleepUntil: Int64? = nil, error: StepError? = nil
    ) {
        self.stepId = stepId
        self.stepName = stepName
        self.stepType = stepType
        self.out = out
        self.concurrent = concurrent
        self.targetStep = targetStep
        self.sleepFor = sleepFor
        self.sleepUntil = sleepUntil
        self.error = error
    }

    /// The initial entry holding the run's input.
    public static func initial(_ input: Value) -> JournalEntry {
        JournalEntry(stepId: 0, stepName: "init", stepType: .initial, out: input)
    }
}

/// Why a step or a run failed: a message, a type (`HTTPError`, `Timeout`, a `fail` step's type)
/// and the path of the step, available as `error` in `catch` and `on_failure`.
public struct StepError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var type: String
    public var step: String?
    /// The HTTP status when the failure was a response.
    public var status: Int?

    public init(message: String, type: String, step: String? = nil, status: Int? = nil) {
        self.message = message
        self.type = type
        self.step = step
        self.status = status
    }

    /// The failure of a run that went on past its workflow's `timeout` of `limit`.
    public static func runTimeout(_ limit: DurationValue) -> StepError {
        StepError(message: "the run exceeded its timeout of \(limit)", type: "Timeout")
    }

    /// The error as the `error` variable of expressions.
    public var value: Value {
        var map = ValueMap([("message", .string(message)), ("type", .string(type))])
        map[.string("step")] = step.map(Value.string) ?? .null
        if let status { map[.string("status")] = .int(Int64(status)) }
        return .map(map)
    }

    /// Reads an error written by `value`; `nil` when it is not one.
    public init?(value: Value) {
        guard case .map(let map) = value, case .string(let message)? = map[.string("message")] else { return nil }
        self.message = message
        type = map[.string("type")].flatMap(\.text) ?? "Error"
        step = map[.string("step")].flatMap(\.text)
        if case .int(let status)? = map[.string("status")] { self.status = Int(status) }
    }

    public var description: String { "\(type): \(message)" + (step.map { " (step \($0))" } ?? "") }
}
