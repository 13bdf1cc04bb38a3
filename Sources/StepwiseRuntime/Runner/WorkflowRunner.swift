import StepwiseExpressions
import Synchronization
import StepwiseLanguage

/// Runs deliveries of any workflow it knows, by definition hash. Stateless between deliveries in
/// principle; as an optimisation it keeps the interpreter state of recently active runs and
/// resumes from it when the next delivery's journal extends what it saw (a warm resume), so a
/// long run does not pay for replaying its whole history at every step. The remembered states
/// are bounded by count and by their estimated size, so parked runs with big inputs cannot grow
/// the process without limit: a run whose state was evicted is simply replayed cold.
///
/// The definitions and remembered states sit behind a lock rather than in an actor: a delivery
/// touches them twice (take the state, store it back) for microseconds, and an actor's two
/// executor switches per touch cost more than the work.
public final class WorkflowRunner: Sendable {
    /// The default bound on the estimated size of all remembered run states: 64 MiB.
    public static let defaultWarmByteBudget = 64 << 20

    private let http: any HTTPTransport
    private let secrets: any SecretSource
    /// The bounds of expressions, and of every value a run builds (`maximumWrittenBytes`).
    private let limits: EvaluationLimits
    /// What the delays of step retries are multiplied by (`serve --retry-delay-scale`).
    private let retryDelayScale: Double
    private let clock: @Sendable () -> TimestampValue
    private let state: Mutex<State>

    /// What deliveries share: the known definitions and the remembered states.
    private struct State {
        var definitions: [String: RegisteredWorkflow] = [:]
        var warm: WarmStateCache<WarmRun>
    }

    /// A run's remembered state and when the run started: a new run under the id of one that
    /// ended (a client reused it) is not the same run.
    private struct WarmRun: Sendable {
        let state: ExecutionState
        let startedAt: TimestampValue
    }

    /// A runner sending HTTP through `http`, reading secrets from `secrets`, telling time with
    /// `clock`; it remembers at most `warmCapacity` runs (0 disables warm resumes) whose states
    /// are estimated to take at most `warmByteBudget` bytes together. `limits` bound expressions and
    /// the values runs build (the standard ones but in tests). A step's retries wait their
    /// policy's delays times `retryDelayScale`.
    public init(
        http: any HTTPTransport, secrets: any SecretSource, warmCapacity: Int = 1_000,
        warmByteBudget: Int = WorkflowRunner.defaultWarmByteBudget, limits: EvaluationLimits = .standard,
        retryDelayScale: Double = 1, clock: @escaping @Sendable () -> TimestampValue
    ) {
        self.http = http
        self.secrets = secrets
        self.limits = limits
        self.retryDelayScale = retryDelayScale
        self.clock = clock
        state = Mutex(State(warm: WarmStateCache(capacity: warmCapacity, byteBudget: warmByteBudget)))
    }

    /// How many runs' states are remembered for warm resumes.
    public var warmRunCount: Int { state.withLock { $0.warm.count } }

    /// The estimated size of the remembered states, never more than the budget.
    public var warmBytes: Int { state.withLock { $0.warm.totalBytes } }

    /// Makes a definition available under its hash (runs are pinned to the hash they started with).
    public func register(_ workflow: Workflow, hash: String) {
        let definition = RegisteredWorkflow(workflow: workflow)
        state.withLock { $0.definitions[hash] = definition }
    }

    /// How much of the run's journal the remembered state covers, if any: a delivery may then
    /// carry only the entries from that position on (`Delivery.journalBase`).
    public func warmJournalCount(runId: String) -> Int? { state.withLock { $0.warm.entry(for: runId)?.journalCount } }

    /// Handles one delivery: replays the journal, executes at most one new durable step.
    ///
    /// Only the lookup of the definition and the warm state hold the lock; the interpreter runs
    /// concurrently with other deliveries.
    public func deliver(_ delivery: Delivery) async -> DeliveryOutcome {
        guard let (definition, cached) = prepare(delivery) else {
            return .rejected("no definition \(delivery.definitionHash) of workflow '\(delivery.workflow)' is known to this runner")
        }
        if cached == nil, delivery.journalBase > 0 { return .needsWholeJournal }
        let workflow = definition.workflow
        let interpreter = WorkflowInterpreter(
            workflow: workflow, http: http, secrets: secrets, limits: limits, retryDelayScale: retryDelayScale, clock: clock)
        let context = WorkflowContext(
            runId: delivery.runId, workflowName: delivery.workflow, journal: delivery.journal, base: delivery.journalBase,
            pending: delivery.pending, failures: delivery.failures, retried: delivery.retried, plans: delivery.plans,
            startedAt: delivery.startedAt, now: clock())
        context.deadline = delivery.deadline
        // `consume` leaves the state with one owner, so the walk changes it in place instead of copying it.
        var execution = (consume cached) ?? Self.freshState(for: delivery, workflow: workflow, input: context.input)
        var outcome: DeliveryOutcome
        do {
            let result = try await Self.run(interpreter, delivery, context, &execution)
            switch result {
            case .completed(let output): outcome = .completed(output)
            case .failed(let error): outcome = .failed(error)
            }
        } catch {
            outcome = Self.outcome(of: error)
        }
        if case .submitted(let submissions) = outcome,
            let output = await Self.output(after: submissions, of: delivery, definition, interpreter, state: execution, now: clock())
        {
            outcome = .finished(submissions, output: output)
        }
        // Entry 0 (the input) is in the state too.
        let covered = context.coveredCount + 1
        remember(delivery, state: execution, covering: covered, outcome: outcome)
        return outcome
    }

    private func prepare(_ delivery: Delivery) -> (RegisteredWorkflow, ExecutionState?)? {
        state.withLock { state in Self.prepare(delivery, definitions: state.definitions, warm: &state.warm) }
    }

    private static func prepare(_ delivery: Delivery, definitions: [String: RegisteredWorkflow], warm: inout WarmStateCache<WarmRun>)
        -> (RegisteredWorkflow, ExecutionState?)?
    {
        guard let definition = definitions[delivery.definitionHash] else { return nil }
        // The state leaves the cache for the delivery, which stores it back when it is done.
        guard delivery.failure == nil, let cached = warm.take(delivery.runId) else { return (definition, nil) }
        guard cached.state.startedAt == delivery.startedAt else { return (definition, nil) }
        // A delivery of the journal's end must start exactly where the remembered state stops;
        // a whole journal must merely extend it.
        let usable = delivery.journalBase > 0 ? cached.journalCount == delivery.journalBase : cached.journalCount <= delivery.journal.count
        return (definition, usable ? cached.state.state : nil)
    }

    private static func run(
        _ interpreter: WorkflowInterpreter, _ delivery: Delivery, _ context: WorkflowContext, _ state: inout ExecutionState
    ) async throws(StepInterruption) -> RunResult {
        guard let failure = delivery.failure else { return try await interpreter.execute(context, state: &state) }
        // Rebuild the run's state from its journal, then run on_failure on the same journal.
        context.acceptsNewSteps = false
        do {
            _ = try await interpreter.execute(context, state: &state)
        } catch .journalExhausted {
            // Expected: the run failed before reaching its end, perhaps at a pending step in a
            // group whose later members have entries still to be passed.
            let workflow = interpreter.workflow
            context.skipUnreplayed { name in workflow.step(atJournaledPath: name)?.path.segments.first != .onFailure }
        }
        context.acceptsNewSteps = true
        return try await interpreter.executeFailureHandler(failure, context, state: &state)
    }

    /// The run's output when the step this delivery recorded is a top-level step after which no
    /// step journals anything, and the workflow ends there: the walk goes on over the new entry
    /// exactly as the next delivery would (through `set`, `switch`, `return`, the output), so the
    /// run ends in the commit of its last durable step (one delivery and one commit fewer per
    /// run). In process only: over the Upstash protocol a run ends in a delivery of its own. The
    /// walk runs on a copy of the state, which stays as it was when the workflow goes on; only
    /// the last durable top-level step qualifies, so the copy is made at most once per run.
    private static func output(
        after submissions: [StepSubmission], of delivery: Delivery, _ definition: RegisteredWorkflow, _ interpreter: WorkflowInterpreter,
        state: ExecutionState, now: TimestampValue
    ) async -> Value? {
        guard let last = definition.lastJournalingStep, state.resume.step == last, delivery.plans == nil, delivery.failure == nil,
            submissions.count == 1, case .record(let entry) = submissions[0], entry.error == nil,
            entry.stepName == definition.workflow.steps[last].path.instantiated(indices: [])
        else { return nil }
        let context = WorkflowContext(
            runId: delivery.runId, workflowName: delivery.workflow, journal: delivery.journal + [entry], base: delivery.journalBase,
            pending: delivery.pending, failures: delivery.failures, retried: delivery.retried, startedAt: delivery.startedAt, now: now)
        context.acceptsNewSteps = false
        var walked = state
        guard case .completed(let output)? = try? await interpreter.execute(context, state: &walked) else { return nil }
        return output
    }

    private static func outcome(of interruption: StepInterruption) -> DeliveryOutcome {
        switch interruption {
        case .submit(let submissions): .submitted(submissions)
        case .blocked: .blocked
        case .canceled(let reason, let step): .canceled(reason: reason, step: step)
        case .replayMismatch(let message): .rejected(message)
        case .journalExhausted: .rejected("the journal ended before the run's state could be rebuilt")
        }
    }

    private static func freshState(for delivery: Delivery, workflow: Workflow, input: Value) -> ExecutionState {
        let run: Value = [
            "id": .string(delivery.runId), "workflow": .string(delivery.workflow),
            "started_at": .string(delivery.startedAt.description),
        ]
        let environment = Value.map(ValueMap(workflow.environment.map { ($0.name, $0.value) }))
        return ExecutionState(input: InputNormalizer.normalized(input, of: workflow), run: run, environment: environment)
    }

    /// Keeps `state`, which covers the journal's first `covered` entries, for the run's next delivery.
    private func remember(_ delivery: Delivery, state remembered: ExecutionState, covering covered: Int, outcome: DeliveryOutcome) {
        let bytes = remembered.estimatedBytes
        state.withLock { state in
            switch outcome {
            case .submitted, .blocked:
                guard delivery.failure == nil else { fallthrough }
                state.warm.store(WarmRun(state: remembered, startedAt: delivery.startedAt), journalCount: covered, bytes: bytes, for: delivery.runId)
            default:
                state.warm.remove(delivery.runId)
            }
        }
    }

    /// Forgets a run's warm state (after it finished or was canceled elsewhere).
    public func forget(runId: String) {
        state.withLock { $0.warm.remove(runId) }
    }
}

/// A workflow the runner serves, with what every delivery would otherwise recompute.
private struct RegisteredWorkflow: Sendable {
    let workflow: Workflow
    /// The last top-level step that journals anything: a delivery that records it may end the run.
    let lastJournalingStep: Int?

    init(workflow: Workflow) {
        self.workflow = workflow
        lastJournalingStep = workflow.steps.lastIndex { !$0.journalsNothing }
    }
}
