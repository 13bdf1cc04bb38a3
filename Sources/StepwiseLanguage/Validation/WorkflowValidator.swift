import StepwiseExpressions

/// The semantic checks of a workflow: duplicate ids, every expression (syntax was checked when
/// decoding; here names, functions, types, step references and their availability on every
/// path, input fields, scopes of `item` and `error`, secrets), waits without timeout and
/// unreachable steps.
public struct WorkflowValidator {
    private let workflow: Workflow
    private var diagnostics: [Diagnostic] = []
    private var firstDefinition: [String: Step] = [:]
    private var order: [String: Int] = [:]

    /// Checks `workflow` on its own; whether its `invoke` targets exist is a question of its
    /// folder (`WorkflowFile.checkingInvokes(against:)`).
    public static func validate(_ workflow: Workflow) -> [Diagnostic] {
        var validator = WorkflowValidator(workflow: workflow)
        validator.run()
        return validator.diagnostics
    }

    private init(workflow: Workflow) {
        self.workflow = workflow
    }

    private mutating func run() {
        indexSteps()
        checkSecretReferences()
        var header = StepVisibility()
        header.noSteps = true
        if let concurrency = workflow.concurrency { check(concurrency.key, header, "the concurrency key") }
        if let rateLimit = workflow.rateLimit { check(rateLimit.key, header, "the rate limit key") }
        checkScheduleInputs()
        let finished = walk(workflow.steps, StepVisibility())
        if let output = workflow.output { check(output, finished, "output") }
        var failure = StepVisibility()
        failure.hasError = true
        failure.markConditional(workflow.steps.flatMap(\.selfAndDescendants).map(\.id.value), because: "the failed run (it may have failed before)")
        _ = walk(workflow.onFailure, failure)
    }

    /// A schedule's input as written must pass the workflow's input schema: a tick whose input
    /// does not could start no run, only log why, at every tick.
    private mutating func checkScheduleInputs() {
        guard let schema = workflow.input else { return }
        for (index, schedule) in workflow.schedules.enumerated() {
            guard let input = schedule.input.map(\.literalValue) ?? [:] else { continue }
            let problems = InputValidator.problems(of: input, against: schema)
            guard !problems.isEmpty else { continue }
            diagnostics.append(Diagnostic(
                .invalidValue, "the input of schedule entry \(index + 1) does not match the workflow's input schema: " + problems.joined(separator: "; "),
                at: schedule.input?.span ?? schedule.span, hint: "give the input the schema asks for, or relax the schema"))
        }
    }

    private mutating func indexSteps() {
        for (position, step) in workflow.allSteps.enumerated() where !step.id.value.isEmpty {
            if let first = firstDefinition[step.id.value] {
                diagnostics.append(Diagnostic(
                    .duplicateIdentifier, "step id '\(step.id.value)' is already used", at: step.id.span,
                    hint: "first defined at \(first.id.span); ids are unique in a file because steps.<id> names the result"))
                continue
            }
            firstDefinition[step.id.value] = step
            order[step.id.value] = position
        }
    }

    private mutating func checkSecretReferences() {
        let declared = workflow.secrets.map(\.value)
        for step in workflow.allSteps {
            for reference in secretReferences(of: step.kind) where !declared.contains(reference.value) {
                diagnostics.append(Diagnostic(
                    .undeclaredSecret, "secret '\(reference.value)' is not declared", at: reference.span,
                    hint: SpellingSuggestion.closest(to: reference.value, among: declared).map { "did you mean '\($0)'?" }
                        ?? "add it to the workflow's secrets: list"))
            }
        }
    }

    private func secretReferences(of kind: StepKind) -> [Located<String>] {
        switch kind {
        case .http(let request), .call(let request):
            return request.headers.flatMap(\.value.secretReferences) + (request.auth?.values.flatMap(\.secretReferences) ?? [])
        default:
            return []
        }
    }

    // MARK: Walking steps

    /// Checks a list of steps in order; returns the visibility after the list completes.
    private mutating func walk(_ steps: [Step], _ start: StepVisibility) -> StepVisibility {
        var visibility = start
        var ended: Step?
        for step in steps {
            if let ended {
                diagnostics.append(Diagnostic(
                    .unreachableStep, "step '\(step.id.value)' never runs", at: step.id.span,
                    hint: "it follows '\(ended.id.value)', which ends the run with \(ended.kind.keyword)"))
                break
            }
            self.step(step, &visibility)
            // A return or fail ends the run unless an `if` may skip it or a `catch` handles the
            // failure (the steps after it then run).
            if step.kind.endsRun, step.condition == nil, !Self.catchesItsFailure(step) { ended = step }
        }
        return visibility
    }

    /// Whether `step` is a `fail` its own `catch` handles.
    private static func catchesItsFailure(_ step: Step) -> Bool {
        guard case .fail = step.kind else { return false }
        return !step.catchSteps.isEmpty
    }

    /// The longest a `call` may take: the engine holds its lease for that long.
    static let longestCall = (try? DurationValue(nanoseconds: 12 * 3_600 * 1_000_000_000)) ?? .zero

    /// An event name written as blank text can never be notified (the routes need a name) nor
    /// waited for usefully, so it is an error before any run starts.
    private mutating func blankEvent(_ event: ValueTemplate, _ name: String) {
        guard case .literal(.string(let text)) = event.kind, text.isBlank else { return }
        diagnostics.append(Diagnostic(.invalidValue, "the event of \(name) is blank", at: event.span, hint: "name the event, e.g. event: order-paid"))
    }

    /// Checks one step and adds what it completes to `visibility`, in place: a copy of the
    /// visibility per step made validation quadratic in the number of steps. Steps with a catch
    /// or nested steps still copy it once each, for the walks inside them.
    private mutating func step(_ step: Step, _ visibility: inout StepVisibility) {
        let name = "step '\(step.id.value)'"
        if let condition = step.condition { check(condition, visibility, "the if of \(name)", isCondition: true) }
        // `if: ${{ has(steps.charge) }}`: inside the step, `charge` has run (a compensation's
        // guard); after it, it may still not have.
        let tested = step.condition.map(ExpressionReference.stepsTested) ?? []
        let guarded = visibility.conditional.filter { tested.contains($0.key) }
        for id in guarded.keys {
            visibility.conditional[id] = nil
            visibility.completed.insert(id)
        }
        defer {
            for (id, reason) in guarded {
                visibility.completed.remove(id)
                visibility.conditional[id] = reason
            }
        }
        if let timeout = step.timeout, !step.kind.takesTimeout {
            diagnostics.append(Diagnostic(
                .timeoutWithoutEffect, "the timeout of \(name) has no effect: timeout limits http, call and wait_for_event steps, not \(step.kind.keyword)",
                at: timeout.span, hint: "limit the whole run with the workflow's timeout:, or the requests inside with their own"))
        }
        retriedResults(step, name)
        // A catch handler sees what was visible before the step; kept only for a step with one.
        let beforeCatch = step.catchSteps.isEmpty ? nil : visibility
        switch step.kind {
        case .http(let request):
            for template in request.templates { check(template, visibility, name) }
        case .call(let request):
            for template in request.templates { check(template, visibility, name) }
            for timeout in [request.timeout, step.timeout].compactMap({ $0 }) where timeout.value > Self.longestCall {
                diagnostics.append(Diagnostic(
                    .invalidDuration, "the timeout of \(name) is \(timeout.value); a call may take at most 12h", at: timeout.span,
                    hint: "split the work, or have the service notify an event the workflow waits for"))
            }
        case .sleep(let value):
            check(value, visibility, name)
            checkComputed(value, name) { value throws(EvaluationError) in _ = try StepValues.sleepLength(value) }
        case .sleepUntil(let value):
            check(value, visibility, name)
            checkComputed(value, name) { value throws(EvaluationError) in _ = try StepValues.instant(value) }
        case .return(let value):
            check(value, visibility, name)
        case .waitForEvent(let wait):
            check(wait.event, visibility, name)
            blankEvent(wait.event, name)
            if wait.timeout == nil, !wait.hasTimeoutKey, step.timeout == nil {
                diagnostics.append(Diagnostic(
                    .waitWithoutTimeout, "\(name) waits for an event without a timeout; it will give up after the default 7d",
                    at: step.id.span, hint: "add timeout: to say how long to wait"))
            }
        case .notify(let notification):
            check(notification.event, visibility, name)
            blankEvent(notification.event, name)
            if let data = notification.data { check(data, visibility, name) }
        case .invoke(let invocation):
            if let input = invocation.input { check(input, visibility, name) }
        case .set(let assignments):
            for assignment in assignments { check(assignment.value, visibility, name) }
        case .fail(let failure):
            check(failure.message, visibility, name)
            if let type = failure.type { check(type, visibility, name) }
        case .cancel(let reason):
            if let reason { check(reason, visibility, name) }
        case .switch(let cases):
            visibility = switchCases(cases, of: step, visibility)
        case .parallel(let branches):
            visibility = parallelBranches(branches, of: step, visibility)
        case .forEach(let loop):
            check(loop.items, visibility, name)
            checkComputed(loop.items, name) { value throws(EvaluationError) in _ = try StepValues.items(value) }
            var body = visibility
            body.hasLoopVariables = true
            _ = walk(loop.steps, body)
            visibility.markConditional(loop.steps.flatMap(\.selfAndDescendants).map(\.id.value), because: "for_each '\(step.id.value)' (use steps.\(step.id.value)[i])")
        }
        if var handler = beforeCatch {
            handler.hasError = true
            _ = walk(step.catchSteps, handler)
            visibility.markConditional(step.catchSteps.flatMap(\.selfAndDescendants).map(\.id.value), because: "the catch of '\(step.id.value)'")
        }
        visibility.completed.insert(step.id.value)
        if step.condition != nil { visibility.skippable.insert(step.id.value) }
    }

    private mutating func switchCases(_ cases: [SwitchCase], of step: Step, _ before: StepVisibility) -> StepVisibility {
        var after = before
        for switchCase in cases {
            if let condition = switchCase.condition { check(condition, before, "a case of step '\(step.id.value)'", isCondition: true) }
            _ = walk(switchCase.steps, before)
            after.markConditional(
                switchCase.steps.flatMap(\.selfAndDescendants).map(\.id.value),
                because: "a case of switch '\(step.id.value)' (use steps.\(step.id.value), the output of the case taken)")
        }
        return after
    }

    private mutating func parallelBranches(_ branches: [ParallelBranch], of step: Step, _ before: StepVisibility) -> StepVisibility {
        var after = before
        for branch in branches {
            var inside = before
            for other in branches where other.name.value != branch.name.value {
                for sibling in other.steps.flatMap(\.selfAndDescendants) { inside.siblings[sibling.id.value] = other.name.value }
            }
            let finished = walk(branch.steps, inside)
            // A parallel step completes when every branch has: what each branch certainly ran, ran.
            after.completed.formUnion(finished.completed.subtracting(before.completed))
            after.skippable.formUnion(finished.skippable)
            for (id, reason) in finished.conditional where before.conditional[id] == nil { after.conditional[id] = reason }
        }
        return after
    }

    // MARK: Expressions

    /// A status `retry.on` lists that the step takes as its result (`HTTPRequest.statusFails`)
    /// is never retried: the retry asked for never happens.
    private mutating func retriedResults(_ step: Step, _ name: String) {
        guard let retry = step.retry else { return }
        let request: HTTPRequest, isCall: Bool
        switch step.kind {
        case .http(let http): (request, isCall) = (http, false)
        case .call(let call): (request, isCall) = (call, true)
        default: return
        }
        for case .status(let status) in retry.conditions
        where !HTTPRequest.statusFails(status, expected: request.expectedStatuses, failsOnServerErrors: !isCall) {
            let expected = request.expectedStatuses != nil
            let taken = expected
                ? "expect lists it as a success"
                : (isCall ? "a call step takes every status as its result" : "without expect, only a 5xx or 429 fails an http step")
            let hint = expected
                ? "remove \(status) from expect, or from on"
                : "list the statuses that succeed in expect: {status: [...]}, so that \(status) fails the step and is retried"
            diagnostics.append(Diagnostic(.retryOnAResult, "\(name) retries on \(status), which it never fails on: \(taken)", at: retry.span, hint: hint))
        }
    }

    /// An expression that reads no variable is computed now, and given to `accepts`, the rule the
    /// step applies at run time: a value it refuses would fail every run (data written as such is
    /// checked by the decoder).
    private mutating func checkComputed(_ template: ValueTemplate, _ context: String, accepts: (Value) throws(EvaluationError) -> Void) {
        guard case .template = template.kind, let value = StepValues.constant(template) else { return }
        do {
            try accepts(value)
        } catch {
            diagnostics.append(Diagnostic(
                .expressionType, "\(error.message) in \(context): every run would fail here", at: template.span,
                hint: "compute a value the step takes, or write it as data"))
        }
    }

    /// Checks every expression of `template`; a condition (`isCondition`) that is one expression
    /// must also give a bool, when its type is known.
    private mutating func check(_ template: ValueTemplate, _ visibility: StepVisibility, _ context: String, isCondition: Bool = false) {
        var whole = false
        if case .template(let parsed, _, _) = template.kind { whole = parsed.singleExpression != nil }
        for site in template.expressions {
            ExpressionSiteChecker(
                workflow: workflow, visibility: visibility, firstDefinition: firstDefinition,
                locate: site.locate, context: context, expected: isCondition && whole ? .bool : nil
            ).check(site.expression, into: &diagnostics)
        }
    }
}

extension HTTPRequest {
    /// Every value of the request that may hold expressions.
    var templates: [ValueTemplate] {
        [url] + headers.map(\.value) + query.map(\.value) + (body.map { [$0] } ?? []) + (auth?.values ?? [])
    }
}
