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
