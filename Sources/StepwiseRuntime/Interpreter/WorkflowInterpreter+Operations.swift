import StepwiseExpressions
import StepwiseLanguage

extension WorkflowInterpreter {
    /// The journal kind of a step the engine completes.
    static func stepType(of kind: StepKind) -> StepType {
        switch kind {
        case .sleep: .sleepFor
        case .sleepUntil: .sleepUntil
        case .waitForEvent: .wait
        case .notify: .notify
        case .invoke: .invoke
        case .call: .call
        default: .run
        }
    }

    /// What the engine has to do for a new durable step, with its templates evaluated.
    func operationKind(of step: Step, path: String, _ context: WorkflowContext, _ state: ExecutionState) throws(ExecutionSignal) -> StepOperation.Kind {
        switch step.kind {
        case .sleep(let duration):
            let length = try accepted(evaluate(duration, state, step: path), by: StepValues.sleepLength, step: path)
            return .sleep(until: try moved(context.now, by: length, step: path))
        case .sleepUntil(let instant):
            return .sleep(until: try accepted(evaluate(instant, state, step: path), by: StepValues.instant, step: path))
        case .waitForEvent(let wait):
            let event = try eventName(evaluate(wait.event, state, step: path), step: path)
            let timeout = step.timeout(besides: wait.timeout, standard: Self.defaultWaitTimeout)
            return .wait(event: event, timeoutAt: try moved(context.now, by: timeout, step: path))
        case .notify(let notification):
            let event = try eventName(evaluate(notification.event, state, step: path), step: path)
            let data = try notification.data.map { template throws(ExecutionSignal) in try evaluate(template, state, step: path) } ?? .null
            return .notify(event: event, data: data)
        case .invoke(let invocation):
            let input = try invocation.input.map { template throws(ExecutionSignal) in try evaluate(template, state, step: path) } ?? [:]
            return .invoke(workflow: invocation.workflow.value, input: input)
        case .call(let request):
            let timeout = step.timeout(besides: request.timeout, standard: Self.defaultCallTimeout)
            do {
                let rendered = try RequestRenderer(request: request, variables: state.variables, limits: limits)
                    .render(runId: context.runId, path: path, timeout: timeout)
                return .call(rendered)
            } catch {
                throw .failed(StepError(message: error.message, type: error.stepErrorType, step: path))
            }
        default:
            throw .failed(StepError(message: "step kind '\(step.kind.keyword)' is not an engine operation", type: "Unsupported", step: path))
        }
    }

    /// An event's name as text. A blank one is refused, since no notify route can name it and the
    /// wait would only end by its timeout; one with a control character too (the routes refuse it,
    /// and PostgreSQL cannot store a NUL).
    private func eventName(_ value: Value, step: String) throws(ExecutionSignal) -> String {
        let name = Self.text(value)
        guard !name.isBlank else {
            throw .failed(StepError(message: "the event name is blank: \(value.jsonText())", type: "ValueError", step: step))
        }
        guard !name.containsControlCharacter else {
            throw .failed(StepError(message: "the event name holds a control character: \(value.jsonText())", type: "ValueError", step: step))
        }
        return name
    }

    /// `value` as `rule` takes it (`StepValues`: a sleep's length, a time, `for_each` items); a
    /// value the rule refuses fails the step with a `TypeError`.
    func accepted<T>(_ value: Value, by rule: (Value) throws(EvaluationError) -> T, step: String) throws(ExecutionSignal) -> T {
        do {
            return try rule(value)
        } catch {
            throw .failed(StepError(message: error.message, type: "TypeError", step: step))
        }
    }

    private func moved(_ instant: TimestampValue, by duration: DurationValue, step: String) throws(ExecutionSignal) -> TimestampValue {
        do {
            return try instant.adding(duration)
        } catch {
            let message = "\(duration) from \(instant) ends after \(TimestampValue.latestSecond), the latest time a run can name (\(error.message))"
            throw .failed(StepError(message: message, type: "TimeError", step: step))
        }
    }

    // MARK: Expressions

    /// Evaluates a value with the run's variables; an expression error fails the step.
    func evaluate(_ template: ValueTemplate, _ state: ExecutionState, step: String) throws(ExecutionSignal) -> Value {
        do {
            return try ValueRenderer(variables: state.variables, secrets: nil, limits: limits).render(template)
        } catch {
            throw .failed(StepError(message: error.message, type: "ExpressionError", step: step))
        }
    }

    func isTrue(_ condition: ValueTemplate, _ state: ExecutionState, step: String) throws(ExecutionSignal) -> Bool {
        let value = try evaluate(condition, state, step: step)
        guard case .bool(let holds) = value else {
            throw .failed(StepError(message: "a condition must be true or false, got \(value.type.name)", type: "TypeError", step: step))
        }
        return holds
    }

    static func text(_ value: Value) -> String {
        if case .string(let s) = value { return s }
        return value.jsonText()
    }

    /// Runs a context operation, turning its interruptions into the interpreter's signals (a
    /// submission becomes a frontier step of the walk).
    static func interrupting<T>(_ body: () throws(StepInterruption) -> T) throws(ExecutionSignal) -> T {
        do {
            return try body()
        } catch .submit(let submissions) {
            throw .frontier(submissions.map(FrontierStep.submission))
        } catch {
            throw .interrupted(error)
        }
    }
}
