import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// A delivery's raw step array read as the interpreter's journal (§4.2, §4.5): entry 0 is the
/// run's input, then the result steps in log order. Call entries (`toCallback`, `fromCallback`)
/// are skipped; a result repeating an earlier `stepId`, or a plan an earlier `targetStep` (a
/// duplicate append), is dropped. Plan steps of parallel groups are not results: they say which
/// steps are in flight and, when last, which step this delivery runs (`ParallelPlans`). `Wait`
/// results are authored by the orchestrator in the SDKs' shape (the event's body in base64) and
/// become the workflow's `{received, timed_out, data}`; every other step was written by this
/// runner from its own journal entry.
struct ProtocolJournal: Sendable {
    /// The entries, input first.
    let entries: [JournalEntry]
    /// What the plans in the log mean for this delivery.
    let plans: ParallelPlans
    /// The `out` of the plan this delivery carries, when the plan has one: a sleep's second plan,
    /// due when the sleep ends, holds the sleep's result.
    let targetPlanOut: Value?
    /// Whether the array's last entry repeats an earlier one: the delivery of a duplicate
    /// append, which has nothing new to do (the SDKs answer `duplicate-step`).
    let endsWithDuplicate: Bool

    /// The journal of run `runId`'s `array`; errors name the raw step that cannot be read.
    init(_ array: RawStepArray, runId: String) throws(ProtocolError) {
        var reader = Reader(runId: runId)
        for raw in array.steps { try reader.read(raw) }
        self = try reader.journal
    }

    private init(entries: [JournalEntry], plans: ParallelPlans, targetPlanOut: Value?, endsWithDuplicate: Bool) {
        self.entries = entries
        self.plans = plans
        self.targetPlanOut = targetPlanOut
        self.endsWithDuplicate = endsWithDuplicate
    }

    /// Reads a raw step array one entry at a time, so that a reader kept from one delivery of a
    /// run continues with what the next delivery appended (a left fold: the journal is the same
    /// as from reading the whole array).
    struct Reader: Sendable {
        let runId: String
        /// How many raw steps were read.
        private(set) var count = 0
        private var entries: [JournalEntry] = []
        private var results: Set<Int64> = []
        private var finished: Set<String> = []
        private var plans: [Int64: String] = [:]
        private var last: (plan: String?, entry: Int?) = (nil, 0)
        private var lastPlanOut: Value?
        private var endsWithDuplicate = false

        /// A reader of run `runId`'s log that has read nothing.
        init(runId: String) {
            self.runId = runId
        }

        /// Reads the next raw step; the error names it by its index in the array.
        mutating func read(_ raw: RawStep) throws(ProtocolError) {
            let index = count
            count += 1
            guard index > 0 else {
                entries = [JournalEntry.initial(ProtocolJournal.input(raw.body))]
                return
            }
            guard raw.callType == .step else { return }
            let step = try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in try raw.step() }
            if step.isPlan, let target = step.targetStep {
                endsWithDuplicate = plans.updateValue(step.stepName, forKey: target) != nil
                last = (step.stepName, nil)
                lastPlanOut = step.out == nil ? nil : try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in
                    try step.journalEntry().out
                }
                return
            }
            endsWithDuplicate = !results.insert(step.stepId).inserted
            if endsWithDuplicate { return }
            let entry = try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in try ProtocolJournal.entry(step, runId: runId) }
            entries.append(entry)
            finished.insert(entry.stepName)
            last = (nil, entries.count - 1)
            lastPlanOut = nil
        }

        /// The journal of what was read; an error when nothing was (no initial payload).
        var journal: ProtocolJournal {
            get throws(ProtocolError) {
                guard count > 0 else { throw ProtocolError("the raw step array is empty: it has no initial payload") }
                return ProtocolJournal(
                    entries: entries,
                    plans: ParallelPlans(
                        planned: Set(plans.values).subtracting(finished), target: last.plan.flatMap { finished.contains($0) ? nil : $0 },
                        deliveredEntry: last.entry),
                    targetPlanOut: last.plan == nil ? nil : lastPlanOut, endsWithDuplicate: endsWithDuplicate)
            }
        }
    }

    /// The run's input from the initial payload (`PayloadValue`); `{}` for an empty body, as a
    /// trigger without a body starts a run with an empty object.
    static func input(_ payload: [UInt8]) -> Value {
        payload.isEmpty ? [:] : PayloadValue.of(payload)
    }

    /// The stepId the next new step gets: one more than the results so far.
    var nextStepId: Int { entries.count }

    private static func entry(_ step: StepJSON, runId: String) throws(ProtocolError) -> JournalEntry {
        if step.stepType == StepType.invoke.rawValue { return try invokeEntry(step, runId: runId) }
        guard step.stepType == StepType.wait.rawValue else { return try step.journalEntry() }
        var data: Value?
        if step.waitTimeout != true, case .event(let body)? = try step.output() {
            data = PayloadValue.of(body)
        }
        return JournalEntry(
            stepId: Int(step.stepId), stepName: step.stepName, stepType: .wait, out: StepOperation.waitResult(data: data),
            concurrent: Int(step.concurrent ?? 1))
    }

    /// An `Invoke` result, written by the orchestrator in the SDKs' shape, as the workflow's
    /// `{status, output, run_id, error?}`.
    private static func invokeEntry(_ step: StepJSON, runId: String) throws(ProtocolError) -> JournalEntry {
        guard case .invokeResult(let result)? = try step.output() else { throw ProtocolError("the Invoke step \(step.stepName) has no result") }
        let body = result.body.map { PayloadValue.of(Array($0.utf8)) } ?? .null
        let status = result.isCanceled == true ? "canceled" : result.isFailed == true ? "failed" : "succeeded"
        var out = ValueMap([
            ("status", .string(status)), ("output", status == "succeeded" ? body : .null),
            ("run_id", .string(RunMessages.invokedRunId(parent: runId, stepName: step.stepName))),
        ])
        if status == "failed" {
            // Stepwise sends a failed child's error; QStash sends neither an error nor a body.
            out[.string("error")] = (result.error ?? result.body).map { PayloadValue.of(Array($0.utf8)) } ?? .null
        } else if status == "canceled", let error = result.error {
            // As in process: a canceled child's `Canceled` error, when Stepwise sent one.
            out[.string("error")] = PayloadValue.of(Array(error.utf8))
        }
        return JournalEntry(stepId: Int(step.stepId), stepName: step.stepName, stepType: .invoke, out: .map(out), concurrent: Int(step.concurrent ?? 1))
    }
}
