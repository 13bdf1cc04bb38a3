import StepwiseExpressions
import StepwiseLanguage

/// Executes a workflow's AST through a `WorkflowContext`: pure steps (`set`, `switch`, `if`,
/// expressions) are recomputed on every delivery; durable steps are replayed from the journal or,
/// when they have no result yet, executed or handed to the engine and submitted, which ends the
/// delivery. Inside `parallel` and `for_each` every active branch contributes its next step, and
/// the `http` requests among them are sent concurrently.
public struct WorkflowInterpreter: Sendable {
    public let workflow: Workflow
    let http: any HTTPTransport
    let secrets: any SecretSource
    /// The bounds of every expression; `maximumWrittenBytes` also bounds the values steps put
    /// together. Values can share parts in memory (a result referenced twice), so without it a few
    /// steps that each double a value would hang a core walking it and fill the disk with its journal.
    let limits: EvaluationLimits
    let clock: @Sendable () -> TimestampValue
    /// What the delays of retry policies are multiplied by (`RetrySchedule.delayScale`).
    let retryDelayScale: Double

    /// An interpreter of `workflow` sending requests through `http`, reading `secrets`, within
    /// `limits`, telling time with `clock`; its retries wait their policy's delays times `retryDelayScale`.
    public init(
        workflow: Workflow, http: any HTTPTransport, secrets: any SecretSource, limits: EvaluationLimits = .standard,
        retryDelayScale: Double = 1, clock: @escaping @Sendable () -> TimestampValue
    ) {
        self.workflow = workflow
        self.http = http
        self.secrets = secrets
        self.limits = limits
        self.retryDelayScale = retryDelayScale
        self.clock = clock
    }

    /// Default limits of the language (DESIGN §3).
    static let defaultWaitTimeout = DurationValue.seconds(7 * 86_400)
    static let defaultCallTimeout = DurationValue.seconds(15 * 60)
    static let defaultConcurrency = 10

    /// Runs the workflow's steps as far as the journal allows. `state` carries what a warm runner
    /// remembers from the previous delivery of the same run (or a fresh state); it is updated.
    func execute(_ context: WorkflowContext, state: inout ExecutionState) async throws(StepInterruption) -> RunResult {
        do {
            var last = Value.null
            context.skipCovered(state.resume.entries)
            for index in state.resume.step..<workflow.steps.count {
                context.startTopLevelStep()
                state.resume = (index, context.consumedCount)
                last = try await execute(workflow.steps[index], indices: [], context, &state)
            }
            let output = try workflow.output.map { template throws(ExecutionSignal) in try evaluate(template, state, step: "output") } ?? last
            try writable(output, "the run's output", step: "output")
            return .completed(output)
        } catch {
            return try await conclude(error)
        }
    }

    /// Runs `on_failure` after the run failed with `failure`; `error` is in scope. A `cancel` or
    /// `return` in the handler ends the handler, not the failure: the run stays failed.
    func executeFailureHandler(_ failure: StepError, _ context: WorkflowContext, state: inout ExecutionState) async throws(StepInterruption) -> RunResult {
        state.error = failure.value
        do {
            _ = try await execute(workflow.onFailure, indices: [], context, &state)
            return .failed(failure)
        } catch {
            if case .interrupted(.canceled) = error { return .failed(failure) }
            switch try await conclude(error) {
            case .completed: return .failed(failure)
            case .failed(let handlerFailure):
                return .failed(StepError(
                    message: "\(failure.message); on_failure also failed: \(handlerFailure.message)", type: failure.type,
                    step: failure.step, status: failure.status))
            }
        }
    }

    /// Turns how a walk ended into the delivery's result, sending the requests it reached.
    private func conclude(_ signal: ExecutionSignal) async throws(StepInterruption) -> RunResult {
        switch signal {
        case .frontier(let steps): throw .submit(await perform(steps))
        case .interrupted(let interruption): throw interruption
        case .returned(let value): return .completed(value)
        case .failed(let failure): return .failed(failure)
        }
    }

    /// Sends the requests among `steps` concurrently and returns every step's submission, in order.
    /// A lone request is sent by the delivery's own task: a child task would cost its creation
    /// and two thread wake-ups per step of a sequential run (BENCHMARKS.md, session 24).
    private func perform(_ steps: [FrontierStep]) async -> [StepSubmission] {
        if steps.count == 1, case .request(let executor, let outgoing, let attempt) = steps[0] {
            return [await executor.send(outgoing, attempt: attempt, now: clock)]
        }
        return await withTaskGroup(of: (Int, StepSubmission).self) { group in
            var submissions: [StepSubmission?] = Array(repeating: nil, count: steps.count)
            for (index, step) in steps.enumerated() {
                switch step {
                case .submission(let submission):
                    submissions[index] = submission
                case .request(let executor, let outgoing, let attempt):
                    group.addTask { [clock] in (index, await executor.send(outgoing, attempt: attempt, now: clock)) }
                }
            }
            for await (index, submission) in group { submissions[index] = submission }
            return submissions.compactMap { $0 }
        }
    }

    // MARK: Steps

    func execute(_ steps: [Step], indices: [Int], _ context: WorkflowContext, _ state: inout ExecutionState) async throws(ExecutionSignal) -> Value {
        var last = Value.null
        for step in steps {
            last = try await execute(step, indices: indices, context, &state)
        }
        return last
    }

    private func execute(_ step: Step, indices: [Int], _ context: WorkflowContext, _ state: inout ExecutionState) async throws(ExecutionSignal) -> Value {
        let path = step.path.instantiated(indices: indices)
        // The memory of completed steps only serves sequential code, where a step's entries
        // are consecutive in the journal; inside a group, entries interleave.
        let remembers = !context.isConcurrent
        if remembers, let remembered = state.completed[path] {
            context.skip(remembered.journalEntries)
            state.steps[.string(step.id.value)] = remembered.output
            return remembered.output
        }
        let start = context.consumedCount
        let stepsBefore = state.steps.count
        let output: Value
        do {
            let result = try await outputOf(step, path: path, indices: indices, context, &state)
            if Self.assemblesResult(step.kind) { try bounded(result, "the result of step '\(step.id.value)'", step: path) }
            if case .set = step.kind { try writable(result, "the result of step '\(step.id.value)'", step: path) }
            output = result
        } catch {
            guard case .failed(let failure) = error, !step.catchSteps.isEmpty else { throw error }
            output = try await handle(failure, of: step, indices: indices, context, &state)
        }
        if remembers {
            // A `parallel` step leaves its branches' step results in scope; nothing else
            // remembers them, so they are weighed with the step.
            let branchResults: ArraySlice<Value> = if case .parallel = step.kind { state.steps.values.dropFirst(stepsBefore) } else { [] }
            state.remember(output, journalEntries: context.consumedCount - start, at: path, retained: branchResults)
        }
        state.steps[.string(step.id.value)] = output
        return output
    }

    /// Whether a step of `kind` puts its result together from several values, each bounded where
    /// it was made, so that the whole may be larger than any (a `set` of several names, the
    /// results of `parallel` branches or `for_each` iterations). Other results are one value that
    /// was bounded already: an expression's, a response's, a journal entry's or a nested step's.
    private static func assemblesResult(_ kind: StepKind) -> Bool {
        switch kind {
        case .set(let assignments): assignments.count > 1
        case .parallel, .forEach: true
        default: false
        }
    }

    /// Fails `what` at `step` when `value` is larger than `limits.maximumWrittenBytes` written as JSON.
    private func bounded(_ value: Value, _ what: String, step: String) throws(ExecutionSignal) {
        guard value.isWritten(largerThan: limits.maximumWrittenBytes) else { return }
        throw .failed(StepError(
            message: "\(what) is larger than \(limits.writtenBytesText) written as JSON; keep large data outside the run and pass references to it",
            type: "ValueTooLarge", step: step))
    }

    /// Fails `what` at `step` when `value` has a map whose keys collide once written as JSON, or
    /// nests deeper than `Value.maximumNesting` levels: the stored run would read back without
    /// the keys, or not at all. A `set` step's result, a `return` and the output, where a value
    /// could otherwise nest one level deeper at each step.
    private func writable(_ value: Value, _ what: String, step: String) throws(ExecutionSignal) {
        if let key = value.collidingJSONKey {
            throw .failed(StepError(
                message: "\(what) has a map with two keys written as \"\(key)\" in JSON (say 1 and '1'): JSON keys are strings, so one would be lost; make the keys distinct strings, e.g. with string()",
                type: "ValueNotJSON", step: step))
        }
        guard value.isNested(deeperThan: Value.maximumNesting) else { return }
        throw .failed(StepError(message: "\(what) is nested deeper than \(Value.maximumNesting) levels, the most a run keeps", type: "ValueTooDeep", step: step))
    }

    /// Runs the `catch` steps of `step` with `error` in scope; their output becomes the step's.
    private func handle(_ failure: StepError, of step: Step, indices: [Int], _ context: WorkflowContext, _ state: inout ExecutionState) async throws(ExecutionSignal) -> Value {
        let outer = state.error
        state.error = failure.value
        defer { state.error = outer }
        return try await execute(step.catchSteps, indices: indices, context, &state)
    }

    private func outputOf(_ step: Step, path: String, indices: [Int], _ context: WorkflowContext, _ state: inout ExecutionState) async throws(ExecutionSignal) -> Value {
        if let condition = step.condition, try !isTrue(condition, state, step: path) { return .null }
        switch step.kind {
        case .set(let assignments):
            var map = ValueMap()
            for assignment in assignments { map[.string(assignment.name)] = try evaluate(assignment.value, state, step: path) }
            return .map(map)
        case .switch(let cases):
            for switchCase in cases {
                if let condition = switchCase.condition, try !isTrue(condition, state, step: path) { continue }
                return try await execute(switchCase.steps, indices: indices, context, &state)
            }
            return .null
        case .parallel(let branches):
            return try await parallel(branches, indices: indices, context, &state)
        case .forEach(let loop):
            return try await forEach(loop, path: path, indices: indices, context, &state)
        case .http(let request):
            return try HTTPStepExecutor(interpreter: self, request: request, step: step, path: path).execute(context, state)
        case .return(let value):
            let output = try evaluate(value, state, step: path)
            try writable(output, "the run's output", step: path)
            throw .returned(output)
        case .fail(let failure):
            let message = try evaluate(failure.message, state, step: path)
            var type = "WorkflowFailed"
            if let typeTemplate = failure.type { type = Self.text(try evaluate(typeTemplate, state, step: path)) }
            throw .failed(StepError(message: Self.text(message), type: type, step: path))
        case .sleep, .sleepUntil, .waitForEvent, .notify, .invoke, .call:
            return try durable(step, path: path, context, state)
        case .cancel(let reason):
            let text = try reason.map { template throws(ExecutionSignal) in Self.text(try evaluate(template, state, step: path)) }
            // An empty reason is none, as documented: the run then says the workflow canceled itself.
            let given = text.flatMap { $0.isEmpty ? nil : $0 }
            try Self.interrupting { () throws(StepInterruption) in try context.cancel(reason: given, step: path) }
        }
    }

    /// The steps the engine completes: replayed, blocked while pending, or handed over. Their
    /// templates are evaluated only when the step is new.
    private func durable(_ step: Step, path: String, _ context: WorkflowContext, _ state: ExecutionState) throws(ExecutionSignal) -> Value {
        let type = Self.stepType(of: step.kind)
        let replayed = try Self.interrupting { () throws(StepInterruption) in try context.replay(path, type) }
        guard let entry = replayed else {
            let kind: StepOperation.Kind
            do {
                kind = try operationKind(of: step, path: path, context, state)
            } catch .failed(let failure) {
                try Self.interrupting { () throws(StepInterruption) in try context.recordFailureOfPlannedStep(path, type, failure) }
                throw .failed(failure)
            }
            try Self.interrupting { () throws(StepInterruption) in
                try context.submit(.park(StepOperation(stepName: path, stepType: type, kind: kind)))
            }
        }
        if let error = entry.error { throw .failed(error) }
        return entry.out ?? .null
    }
}
