import StepwiseExpressions
import StepwiseLanguage

/// Executes a workflow's AST through a `WorkflowContext`: pure steps (`set`, `switch`, `if`,
/// expressions) are recomputed on every delivery; durable steps are replayed from the journal or,
/// for the first one without a result, executed and submitted, which ends the delivery.
public struct WorkflowInterpreter: Sendable {
    public let workflow: Workflow
    let http: any HTTPTransport
    let secrets: any SecretSource

    public init(workflow: Workflow, http: any HTTPTransport, secrets: any SecretSource) {
        self.workflow = workflow
        self.http = http
        self.secrets = secrets
    }

    /// Runs the workflow's steps as far as the journal allows. `state` carries what a warm runner
    /// remembers from the previous delivery of the same run (or a fresh state); it is updated.
    func execute(_ context: WorkflowContext, state: inout ExecutionState) async throws(StepInterruption) -> RunResult {
        do {
            let last = try await execute(workflow.steps, indices: [], context, &state)
            guard let output = workflow.output else { return .completed(last) }
            return .completed(try evaluate(output, state, step: "output"))
        } catch {
            switch error {
            case .interrupted(let interruption): throw interruption
            case .returned(let value): return .completed(value)
            case .failed(let failure): return .failed(failure)
            }
        }
    }

    /// Runs `on_failure` after the run failed with `failure`; `error` is in scope.
    func executeFailureHandler(_ failure: StepError, _ context: WorkflowContext, state: inout ExecutionState) async throws(StepInterruption) -> RunResult {
        state.error = failure.value
        do {
            _ = try await execute(workflow.onFailure, indices: [], context, &state)
            return .failed(failure)
        } catch {
            switch error {
            case .interrupted(let interruption): throw interruption
            case .returned: return .failed(failure)
            case .failed(let handlerFailure):
                return .failed(StepError(
                    message: "\(failure.message); on_failure also failed: \(handlerFailure.message)", type: failure.type,
                    step: failure.step, status: failure.status))
            }
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
        if let remembered = state.completed[path] {
            context.skip(remembered.journalEntries)
            state.steps[.string(step.id.value)] = remembered.output
            return remembered.output
        }
        let start = context.position
        let output: Value
        do {
            output = try await outputOf(step, path: path, indices: indices, context, &state)
        } catch {
            guard case .failed(let failure) = error, !step.catchSteps.isEmpty else { throw error }
            output = try await handle(failure, of: step, indices: indices, context, &state)
        }
        state.steps[.string(step.id.value)] = output
        state.completed[path] = ExecutionState.CompletedStep(output: output, journalEntries: context.position - start)
        return output
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
        case .sleep(let duration):
            let value = try evaluate(duration, state, step: path)
            guard case .duration(let length) = value else {
                throw .failed(StepError(message: "sleep needs a duration, got \(value.type.name)", type: "TypeError", step: path))
            }
            return try interrupting { () throws(StepInterruption) in try context.sleep(path, for: length) }
        case .sleepUntil(let instant):
            let until = try timestamp(evaluate(instant, state, step: path), step: path)
            return try interrupting { () throws(StepInterruption) in try context.sleepUntil(path, until) }
        case .http(let request):
            return try await HTTPStepExecutor(interpreter: self, request: request, step: step, path: path).execute(context, state)
        case .return(let value):
            throw .returned(try evaluate(value, state, step: path))
        case .fail(let failure):
            let message = try evaluate(failure.message, state, step: path)
            var type = "WorkflowFailed"
            if let typeTemplate = failure.type { type = Self.text(try evaluate(typeTemplate, state, step: path)) }
            throw .failed(StepError(message: Self.text(message), type: type, step: path))
        case .call, .waitForEvent, .notify, .invoke, .parallel, .forEach, .cancel:
            throw .failed(StepError(
                message: "step kind '\(step.kind.keyword)' is not supported by this runner yet", type: "Unsupported", step: path))
        }
    }

    private func interrupting(_ body: () throws(StepInterruption) -> Value) throws(ExecutionSignal) -> Value {
        do {
            return try body()
        } catch {
            throw .interrupted(error)
        }
    }

    // MARK: Expressions

    /// Evaluates a value with the run's variables; an expression error fails the step.
    func evaluate(_ template: ValueTemplate, _ state: ExecutionState, step: String) throws(ExecutionSignal) -> Value {
        do {
            return try ValueRenderer(variables: state.variables, secrets: nil).render(template)
        } catch {
            throw .failed(StepError(message: error.message, type: "ExpressionError", step: step))
        }
    }

    private func isTrue(_ condition: ValueTemplate, _ state: ExecutionState, step: String) throws(ExecutionSignal) -> Bool {
        let value = try evaluate(condition, state, step: step)
        guard case .bool(let holds) = value else {
            throw .failed(StepError(message: "a condition must be true or false, got \(value.type.name)", type: "TypeError", step: step))
        }
        return holds
    }

    private func timestamp(_ value: Value, step: String) throws(ExecutionSignal) -> TimestampValue {
        switch value {
        case .timestamp(let instant): return instant
        case .string(let text):
            do {
                return try TimestampValue(parsing: text)
            } catch {
                throw .failed(StepError(message: error.message, type: "TypeError", step: step))
            }
        default:
            throw .failed(StepError(message: "sleep_until needs a time, got \(value.type.name)", type: "TypeError", step: step))
        }
    }

    static func text(_ value: Value) -> String {
        if case .string(let s) = value { return s }
        return value.jsonText()
    }
}
