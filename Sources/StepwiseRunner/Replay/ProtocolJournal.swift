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
        guard let payload = array.initialPayload else { throw ProtocolError("the raw step array is empty: it has no initial payload") }
        var entries = [JournalEntry.initial(Self.input(payload))]
        var results: Set<Int64> = []
        var plans: [Int64: String] = [:]
        var last: (plan: String?, entry: Int?) = (nil, 0)
        var lastPlanOut: Value?
        var endsWithDuplicate = false
        for (index, raw) in array.steps.enumerated().dropFirst() where raw.callType == .step {
            let step = try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in try raw.step() }
            if step.isPlan, let target = step.targetStep {
                endsWithDuplicate = plans.updateValue(step.stepName, forKey: target) != nil
                last = (step.stepName, nil)
                lastPlanOut = step.out == nil ? nil : try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in
                    try step.journalEntry().out
                }
                continue
            }
            endsWithDuplicate = !results.insert(step.stepId).inserted
            if endsWithDuplicate { continue }
            entries.append(try ProtocolError.locating("raw step \(index)") { () throws(ProtocolError) in try Self.entry(step, runId: runId) })
            last = (nil, entries.count - 1)
            lastPlanOut = nil
        }
        let finished = Set(entries.map(\.stepName))
        self.entries = entries
        self.plans = ParallelPlans(
            planned: Set(plans.values).subtracting(finished), target: last.plan.flatMap { finished.contains($0) ? nil : $0 },
            deliveredEntry: last.entry)
        self.endsWithDuplicate = endsWithDuplicate
        targetPlanOut = last.plan == nil ? nil : lastPlanOut
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
        if status == "failed" { out[.string("error")] = body }
        return JournalEntry(stepId: Int(step.stepId), stepName: step.stepName, stepType: .invoke, out: .map(out), concurrent: Int(step.concurrent ?? 1))
    }
}
