import StepwiseExpressions

/// The durable step-replay context of one delivery (Upstash Workflow's `context`): steps whose
/// results are in the journal are replayed; steps without one are executed and submitted, which
/// ends the delivery. Outside parallel groups that is exactly one new durable step per delivery;
/// inside a group, each branch may contribute its next step.
///
/// Journal entries are matched by structural path. Outside a group they must also come in
/// order: an entry that does not match the step reached at its position (name or kind) is a
/// replay error naming both, never silent corruption. Inside a group, branches complete in any
/// order, so only the kind is checked.
public final class WorkflowContext {
    public let runId: String
    public let workflowName: String
    public let startedAt: TimestampValue
    /// The time of this delivery; durations (sleeps, wait timeouts) are measured from it.
    public let now: TimestampValue
    /// The journal from entry `base` on; the entries before it were consumed by an earlier
    /// delivery of a warm runner.
    private let journal: [JournalEntry]
    private let base: Int
    private let pending: Set<String>
    private let failures: [String: Int]
    private let retried: Int
    private let plans: ParallelPlans?
    /// The highest journal position replayed on the walk's way to where it is: inside a group
    /// member, only that member's entries and those before the group count.
    private var enablingPosition = 0
    /// For each group being walked: the position it started at, the highest its walked members
    /// reached, and the highest its finished members reached.
    private var groups: [(start: Int, reached: Int, finished: Int)] = []
    private var positions: [String: Int] = [:]
    private var consumed: [Bool]
    /// The first journal entry not replayed yet; entry 0 is the input.
    private var nextInOrder = 1
    private var concurrentDepth = 0
    /// How many journal entries have been replayed.
    public private(set) var consumedCount = 0
    /// How many entries had been replayed when the walk started its last top-level step: those
    /// belong to completed top-level steps, which a warm runner remembers, so a later delivery may
    /// leave them out. Entries of the step the walk stopped in may not all be remembered (a group
    /// in progress, a step in its `catch`), so they are not counted.
    public private(set) var coveredCount = 0
    /// When the run's `timeout` ends (`Delivery.deadline`): no request waits past it.
    public var deadline: TimestampValue?
    /// When false, reaching a step without a journaled result ends the walk with
    /// `.journalExhausted` instead of executing it (used to rebuild state before `on_failure`).
    public var acceptsNewSteps = true

    /// A context over `journal`, whose first entry is entry `base` of the run's journal (entry 0 is
    /// the input; a warm runner passes only the entries after those it has seen). `pending` names
    /// the steps whose operation the engine has not completed yet; `failures` counts each step's
    /// failed tries so far, `retried` those of a step `failures` does not name. The cost follows
    /// the entries passed, not the run's length.
    public init(
        runId: String, workflowName: String, journal: [JournalEntry], base: Int = 0, pending: Set<String> = [],
        failures: [String: Int] = [:], retried: Int = 0, plans: ParallelPlans? = nil, startedAt: TimestampValue, now: TimestampValue
    ) {
        self.runId = runId
        self.workflowName = workflowName
        self.journal = journal
        self.base = max(0, base)
        self.pending = pending
        self.failures = failures
        self.retried = retried
        self.plans = plans
        self.startedAt = startedAt
        self.now = now
        consumed = Array(repeating: false, count: journal.count)
        for (offset, entry) in journal.enumerated() where offset + self.base > 0 && positions[entry.stepName] == nil {
            positions[entry.stepName] = offset + self.base
        }
    }

    /// `timeout`, or what is left of the run until its `deadline` (from this delivery's time)
    /// when that is shorter, so that a request is cut off when the run's timeout ends.
    func limited(_ timeout: DurationValue) -> DurationValue {
        guard let deadline else { return timeout }
        let left = max(deadline.nanosecondsSinceEpoch - now.nanosecondsSinceEpoch, 1_000_000)
        guard left < timeout.nanoseconds, let remaining = try? DurationValue(nanoseconds: left) else { return timeout }
        return remaining
    }

    /// The run's input, from the initial entry (`null` when the journal passed starts later).
    public var input: Value { base == 0 ? journal.first?.out ?? .null : .null }

    /// The run's journal length: the entries before `base` and those passed.
    private var end: Int { base + journal.count }

    /// Entry `index` of the run's journal, which must be one of those passed.
    private func entry(_ index: Int) -> JournalEntry { journal[index - base] }

    /// Whether entry `index` has been replayed. Entries before `base` are replayed in order, by
    /// `skip`, as a warm runner walks past the steps it remembers.
    private func isConsumed(_ index: Int) -> Bool { index < base ? index < nextInOrder : consumed[index - base] }

    /// How many tries of the step named `name` have failed so far (0 on its first try).
    public func attempt(of name: String) -> Int { failures[name] ?? retried }

    /// Whether the walk is inside a parallel group (journal order is then not checked).
    public var isConcurrent: Bool { concurrentDepth > 0 }

    /// The journaled entry for the durable step `name`, checked against `type`; `nil` when the
    /// step has not run yet. Throws `.blocked` when the engine is still completing the step.
    public func replay(_ name: String, _ type: StepType) throws(StepInterruption) -> JournalEntry? {
        guard let index = positions[name], !isConsumed(index) else {
            if pending.contains(name) { throw acceptsNewSteps ? .blocked : .journalExhausted }
            if isConcurrent, let plans { try planned(name, type, plans) }
            // Rebuilding before `on_failure`: the run failed here (under the protocol a failed
            // step has no entry), and the entries that follow are the handler's.
            guard acceptsNewSteps else { throw .journalExhausted }
            if !isConcurrent, nextInOrder < end, nextInOrder >= base {
                throw .replayMismatch(mismatch(at: nextInOrder, reached: name, type))
            }
            return nil
        }
        let entry = entry(index)
        if entry.stepType != type || (!isConcurrent && index != nextInOrder) {
            throw .replayMismatch(mismatch(at: isConcurrent ? index : nextInOrder, reached: name, type))
        }
        markConsumed(index)
        return entry
    }

    /// Under the Upstash protocol, a new step in a group runs only in the delivery of its plan;
    /// it is planned by the delivery of the result that enabled it, and waits elsewhere.
    private func planned(_ name: String, _ type: StepType, _ plans: ParallelPlans) throws(StepInterruption) {
        guard name != plans.target else { return }
        guard acceptsNewSteps else { throw .journalExhausted }
        guard !plans.planned.contains(name), enablingPosition == plans.deliveredEntry else { throw .blocked }
        throw .submit([.plan(stepName: name, stepType: type)])
    }

    /// A group step failing in the delivery of its own plan, before it produced a result (a
    /// template that cannot be evaluated, a missing secret): under the protocol no other delivery
    /// evaluates it, so the failure is recorded as the step's result for every delivery to see.
    /// Elsewhere nothing happens and the caller fails the step as usual.
    public func recordFailureOfPlannedStep(_ name: String, _ type: StepType, _ error: StepError) throws(StepInterruption) {
        guard isConcurrent, let plans, name == plans.target else { return }
        throw .submit([.record(JournalEntry(stepId: 0, stepName: name, stepType: type, error: error))])
    }

    private func mismatch(at index: Int, reached name: String, _ type: StepType) -> String {
        guard index >= base else {
            return "the workflow reaches \(type.rawValue) '\(name)' before journal entry \(index), which this delivery does not carry"
        }
        let entry = entry(index)
        return "journal entry \(index) is \(entry.stepType.rawValue) '\(entry.stepName)', but the workflow reaches \(type.rawValue) '\(name)' there; was the definition changed under a running run?"
    }

    private func markConsumed(_ index: Int) {
        consumedCount += 1
        enablingPosition = max(enablingPosition, index)
        guard index >= base else {
            if index == nextInOrder { nextInOrder += 1 }
            return
        }
        consumed[index - base] = true
        while nextInOrder < end, nextInOrder >= base, consumed[nextInOrder - base] { nextInOrder += 1 }
    }

    /// Moves past the next `count` entries in order, known to match (a warm runner resuming from
    /// its memory of a completed step).
    func skip(_ count: Int) {
        for _ in 0..<count where nextInOrder < end { markConsumed(nextInOrder) }
    }

    /// Runs `body` as a parallel group: journal order is not checked inside it.
    public func concurrently<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        concurrentDepth += 1
        groups.append((enablingPosition, enablingPosition, enablingPosition))
        defer {
            concurrentDepth -= 1
            let group = groups.removeLast()
            enablingPosition = max(group.reached, enablingPosition)
        }
        return try await body()
    }

    /// Notes that the walk starts the next member of the innermost group: it continues from
    /// where the group started, not from where the previous member stopped; or, for a member that
    /// may start only because earlier ones finished (a full `for_each` window), from the last of
    /// their results.
    public func startGroupMember(afterFinishedOnes: Bool) {
        guard let group = groups.last else { return }
        enablingPosition = afterFinishedOnes ? max(group.start, group.finished) : group.start
    }

    /// Notes that the walk leaves the current member of the innermost group, `finished` (with a
    /// result or a failure) or not.
    public func endGroupMember(finished: Bool) {
        guard let group = groups.last else { return }
        groups[groups.count - 1].reached = max(group.reached, enablingPosition)
        if finished { groups[groups.count - 1].finished = max(group.finished, enablingPosition) }
    }

    /// Marks as replayed the entries the walk left behind, in journal order, as long as
    /// `leftBehind` says so of their step names: a group's other members when the walk stopped
    /// at a pending one (rebuilding the state before `on_failure`, whose own entries follow).
    func skipUnreplayed(while leftBehind: (String) -> Bool) {
        var index = nextInOrder
        while index < end, index >= base {
            if !isConsumed(index) {
                guard leftBehind(entry(index).stepName) else { return }
                markConsumed(index)
            }
            index += 1
        }
    }

    /// Moves past the first `count` entries, known to be covered by the steps a warm runner
    /// completed: at once when they are exactly the entries this delivery left out.
    func skipCovered(_ count: Int) {
        guard count > 0, count == base - 1, nextInOrder == 1 else { return skip(count) }
        nextInOrder = base
        consumedCount += count
        enablingPosition = max(enablingPosition, count)
        while nextInOrder < end, consumed[nextInOrder - base] { nextInOrder += 1 }
    }

    /// Notes that the walk starts a top-level step: everything replayed so far is covered.
    func startTopLevelStep() {
        coveredCount = consumedCount
    }

    /// Submits a new durable step, which ends the delivery (or this branch of a group).
    public func submit(_ submission: StepSubmission) throws(StepInterruption) -> Never {
        guard acceptsNewSteps else { throw .journalExhausted }
        throw .submit([submission])
    }

    /// Hands a step to the engine as an operation, or returns its journaled result.
    public func park(_ name: String, _ type: StepType, _ kind: StepOperation.Kind) throws(StepInterruption) -> Value {
        if let entry = try replay(name, type) { return entry.out ?? .null }
        try submit(.park(StepOperation(stepName: name, stepType: type, kind: kind)))
    }

    // MARK: Operations of Upstash Workflow's context

    /// Runs `body` as a durable step named `name`, or returns its journaled result.
    public func run(_ name: String, _ body: () async throws -> Value) async throws -> Value {
        if let entry = try replay(name, .run) {
            if let error = entry.error { throw error }
            return entry.out ?? .null
        }
        let value = try await body()
        try submit(.record(JournalEntry(stepId: 0, stepName: name, stepType: .run, out: value)))
    }

    /// Pauses the run for `duration` (measured from this delivery). The result is `{until}`.
    public func sleep(_ name: String, for duration: DurationValue) throws(StepInterruption) -> Value {
        let until = (try? now.adding(duration)) ?? now
        return try park(name, .sleepFor, .sleep(until: until))
    }

    /// Pauses the run until `instant`. The result is `{until}`.
    public func sleepUntil(_ name: String, _ instant: TimestampValue) throws(StepInterruption) -> Value {
        try park(name, .sleepUntil, .sleep(until: instant))
    }

    /// Parks the run until `event` is notified or `timeout` passes: `{received, timed_out, data}`.
    public func waitForEvent(_ name: String, event: String, timeout: DurationValue) throws(StepInterruption) -> Value {
        let timeoutAt = (try? now.adding(timeout)) ?? now
        return try park(name, .wait, .wait(event: event, timeoutAt: timeoutAt))
    }

    /// Wakes the runs waiting on `event` with `data`: `{waiters}` (the run ids woken).
    public func notify(_ name: String, event: String, data: Value) throws(StepInterruption) -> Value {
        try park(name, .notify, .notify(event: event, data: data))
    }

    /// Starts a run of `workflow` and parks until it ends: `{status, output}`.
    public func invoke(_ name: String, workflow: String, input: Value) throws(StepInterruption) -> Value {
        try park(name, .invoke, .invoke(workflow: workflow, input: input))
    }

    /// Has the engine perform `request` while the run holds no compute: `{status, headers, body}`.
    public func call(_ name: String, _ request: CallRequest) throws(StepInterruption) -> Value {
        try park(name, .call, .call(request))
    }

    /// Ends the run as canceled (not failed: `on_failure` does not run), by the step at `step` if any.
    public func cancel(reason: String? = nil, step: String? = nil) throws(StepInterruption) -> Never {
        guard acceptsNewSteps else { throw .journalExhausted }
        throw .canceled(reason: reason, step: step)
    }

    /// Runs `branches` as a parallel group: each progresses independently; the group returns their
    /// results in order once all have completed, and otherwise submits every branch's next step.
    public func parallel(_ branches: [() async throws -> Value]) async throws -> [Value] {
        try await concurrently { () async throws -> [Value] in
            var results: [Value?] = []
            var submissions: [StepSubmission] = []
            var blocked = false
            for branch in branches {
                do {
                    results.append(try await branch())
                } catch let interruption as StepInterruption {
                    results.append(nil)
                    switch interruption {
                    case .submit(let steps): submissions += steps
                    case .blocked: blocked = true
                    default: throw interruption
                    }
                }
            }
            if !submissions.isEmpty { throw StepInterruption.submit(submissions) }
            if blocked { throw StepInterruption.blocked }
            return results.compactMap { $0 }
        }
    }
}
