import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// What one delivery's outcome becomes in QStash calls (§4.6): the next step published, a wait
/// registered, a call handed to QStash, the run ended or canceled; or an answer asking QStash to
/// try again later (a step's retry) or to fail the run (489).
struct OutcomePublisher: Sendable {
    let endpoint: WorkflowEndpoint
    let runId: String
    let messages: RunMessages
    let definition: WorkflowDefinition
    /// The `stepId` of a new sequential step: one more than the results so far.
    let nextStepId: Int
    /// The group step this delivery runs, from its plan.
    let target: String?
    /// The `out` its plan carries (a sleep's second plan: the sleep's result).
    let targetPlanOut: Value?
    /// Failed tries so far of the new step.
    let attempt: Int

    /// Submits `outcome` and answers the delivery.
    func submit(_ outcome: DeliveryOutcome) async -> EndpointReply {
        do throws(OrchestratorFailure) {
            switch outcome {
            // The runner never ends a protocol run with its last step (a delivery carrying
            // `plans`); if it did, publishing the step is still right: the run ends at its next
            // delivery.
            case .submitted(let submissions), .finished(let submissions, _):
                return try await submit(submissions)
            case .blocked:
                return .done(runId)
            case .completed(let output):
                try await endpoint.qstash.endRun(runId, cancel: false, output: output)
                endpoint.events.record(.submitCleanup, runId: runId)
                return .done(runId)
            case .canceled(let reason, let step):
                var output = ValueMap()
                if let reason { output[.string("reason")] = .string(reason) }
                if let step { output[.string("step")] = .string(step) }
                try await endpoint.qstash.endRun(runId, cancel: true, output: output.isEmpty ? nil : .map(output))
                endpoint.events.record(.submitCleanup, runId: runId, ["canceled": true])
                return .done(runId)
            case .failed(let error):
                return .failed(error)
            case .rejected(let message):
                return .nonRetryable(type: "ReplayError", message)
            case .needsWholeJournal:
                return .error(500, type: "WorkflowError", "the runner lost the run's state while replaying; the delivery will be tried again")
            }
        } catch {
            if error.runEnded { return .done(runId, "workflow-already-ended") }
            endpoint.events.record(.error, runId: runId, ["message": .string(error.message)])
            if error.tooLarge {
                return .nonRetryable(
                    type: "ResultTooLarge",
                    "the orchestrator cannot keep this step's result, larger than the messages it takes (\(error.message)); the run fails rather than run the step again")
            }
            return .error(500, type: "QStashError", error.message)
        }
    }

    /// A walk ends with plans for the group steps it enabled, or with the one new step it ran.
    private func submit(_ submissions: [StepSubmission]) async throws(OrchestratorFailure) -> EndpointReply {
        var plans: [(name: String, type: StepType)] = []
        var steps: [StepSubmission] = []
        for submission in submissions {
            if case .plan(let name, let type) = submission { plans.append((name, type)) } else { steps.append(submission) }
        }
        switch (plans.isEmpty, steps.first) {
        case (false, nil): return try await publishPlans(plans)
        case (true, .record(let entry)?) where steps.count == 1: return try await record(entry)
        case (true, .park(let operation)?) where steps.count == 1: return try await start(operation)
        default:
            return .nonRetryable(type: "WorkflowError", "the walk reached \(submissions.count) new steps outside a plan; this is a bug in the runner")
        }
    }

    /// Notes in the verbose log that step `stepId` was submitted.
    private func recordSubmitted(_ stepId: Int, _ name: String, _ type: StepType) {
        endpoint.events.record(.submitStep, runId: runId, ["stepId": .int(Int64(stepId)), "stepName": .string(name), "stepType": .string(type.rawValue)])
    }

    /// The `stepId` of the new step `name`: a group step's is derived from its path, so that
    /// deliveries running different members at once never give two steps the same id.
    private func stepId(of name: String) -> Int {
        name == target ? RunMessages.groupStepId(name) : nextStepId
    }

    /// Plans the group steps `plans` (§5): each plan's delivery runs its step.
    private func publishPlans(_ plans: [(name: String, type: StepType)]) async throws(OrchestratorFailure) -> EndpointReply {
        let entries = plans.map { plan in
            JournalEntry(stepId: 0, stepName: plan.name, stepType: plan.type, concurrent: plans.count, targetStep: RunMessages.groupStepId(plan.name))
        }
        try await endpoint.qstash.batch(entries.map { messages.step($0) })
        endpoint.events.record(.runParallel, runId: runId, ["planned": .list(plans.map { .string($0.name) })])
        return .done(runId)
    }

    /// Publishes the result a step this delivery ran, unless it is a failure nothing catches: then
    /// the run fails now rather than at the next delivery, and the error stays out of the log, so
    /// a resume from the DLQ runs the step again (as an SDK's failed step), as a resume in process does.
    private func record(_ entry: JournalEntry) async throws(OrchestratorFailure) -> EndpointReply {
        guard let error = entry.error, target == nil, definition.workflow.failureEndsRun(at: entry.stepName) else { return try await publish(entry) }
        endpoint.runner.forget(runId: runId)
        endpoint.logs.forget(runId)
        return .failed(error)
    }

    /// Appends `entry` as the next step, delivered not before `notBefore`.
    private func publish(_ entry: JournalEntry, notBefore: Int64? = nil) async throws(OrchestratorFailure) -> EndpointReply {
        var entry = entry
        let stepId = stepId(of: entry.stepName)
        entry.stepId = stepId
        try await endpoint.qstash.batch([messages.step(entry, notBefore: notBefore)])
        recordSubmitted(stepId, entry.stepName, entry.stepType)
        return .done(runId)
    }

    private func start(_ operation: StepOperation) async throws(OrchestratorFailure) -> EndpointReply {
        let now = endpoint.clock()
        switch operation.kind {
        case .sleep(let until):
            let result = operation.entry(out: ["until": .string(until.description)])
            guard operation.stepName == target else { return try await publish(result, notBefore: QStashTime.notBefore(until)) }
            // In a group the result must not enter the log before the sleep ends: other members'
            // deliveries would take it as done. As in §5, the delay goes on a plan instead; its
            // delivery, once the sleep has ended, records the result the plan carries.
            if let planned = targetPlanOut { return try await publish(operation.entry(out: planned)) }
            var plan = result
            plan.targetStep = RunMessages.groupStepId(operation.stepName + "@until")
            plan.concurrent = 1
            plan.sleepUntil = QStashTime.notBefore(until)
            try await endpoint.qstash.batch([messages.step(plan, notBefore: plan.sleepUntil)])
            endpoint.events.record(.runParallel, runId: runId, ["planned": .list([.string(operation.stepName)]), "until": .string(until.description)])
            return .done(runId)
        case .retry(let at, let error):
            return .retryAfter(QStashTime.delay(from: now, to: at), type: error.type, error.description)
        case .wait(let event, let timeoutAt):
            let stepId = stepId(of: operation.stepName)
            let (body, headers) = messages.wait(stepId: stepId, stepName: operation.stepName, timeout: QStashTime.delay(from: now, to: timeoutAt))
            try await endpoint.qstash.wait(eventId: event, body: body, headers: headers)
            recordSubmitted(stepId, operation.stepName, .wait)
            return .done(runId)
        case .notify(let event, let data):
            let woken = try await endpoint.qstash.notify(eventId: event, data: data)
            return try await publish(operation.entry(out: ["waiters": .list(woken.map(Value.string))]))
        case .call(let request):
            return try await call(operation, request, now: now)
        case .invoke(let workflow, let input):
            return try await invoke(workflow, input: input, operation)
        }
    }

    /// Starts a run of `workflow` served by this runner, whose end the orchestrator appends to
    /// this run's log as the step's result (§6.5).
    private func invoke(_ workflow: String, input: Value, _ operation: StepOperation) async throws(OrchestratorFailure) -> EndpointReply {
        guard let child = endpoint.versions.current[workflow] else {
            return try await record(operation.entry(
                out: nil, error: StepError(message: "no workflow named '\(workflow)' is served by this runner", type: "InvokeError", step: operation.stepName)))
        }
        let childURL = Self.sibling(of: messages.workflowURL, named: workflow)
        let childId = RunMessages.invokedRunId(parent: runId, stepName: operation.stepName)
        let stepId = stepId(of: operation.stepName)
        let flowControl: FlowControl?
        do {
            flowControl = try WorkflowEndpoint.flowControl(of: child.workflow, input: input, runId: childId)
        } catch {
            return try await record(operation.entry(
                out: nil, error: StepError(message: "flow-control key: \(error.message)", type: "InvokeError", step: operation.stepName)))
        }
        let message: OutgoingMessage
        do {
            let childRun = endpoint.messages(runId: childId, url: childURL, child, flowControl: flowControl)
            message = try messages.invoke(childRun, input: input, stepId: stepId, stepName: operation.stepName)
        } catch {
            return try await record(operation.entry(out: nil, error: StepError(message: error.message, type: "InvokeError", step: operation.stepName)))
        }
        do {
            try await endpoint.qstash.publish(message)
        } catch where error.status == 409 {
            // The child's id belongs to a run this one did not start: the step fails, as in process.
            return try await record(operation.entry(
                out: nil, error: StepError(
                    message: "run id '\(childId)' already belongs to another run; the child was not started (\(error.message))", type: "InvokeError",
                    step: operation.stepName)))
        }
        recordSubmitted(stepId, operation.stepName, .invoke)
        return .done(runId)
    }

    /// The URL of the endpoint of `workflow` beside `url` (its last path segment replaced).
    static func sibling(of url: String, named workflow: String) -> String {
        guard let slash = url.lastIndex(of: "/") else { return url }
        return String(url[...slash]) + PathSegment.escaped(workflow)
    }

    /// A call whose headers hold no secret is handed to QStash, which answers through a callback
    /// (§6.2). One with secrets is sent by the runner itself, so the secrets never leave it.
    private func call(_ operation: StepOperation, _ request: CallRequest, now: TimestampValue) async throws(OrchestratorFailure) -> EndpointReply {
        let outgoing: OutgoingRequest
        do {
            outgoing = try request.outgoing(secrets: endpoint.secrets, declared: definition.workflow.secrets.map(\.value))
        } catch {
            return try await record(operation.entry(out: nil, error: StepError(message: error.message, type: "SecretError", step: operation.stepName)))
        }
        guard !outgoing.secretHeaderNames.isEmpty else {
            let stepId = stepId(of: operation.stepName)
            try await endpoint.qstash.batch([
                messages.call(outgoing, request, stepId: stepId, stepName: operation.stepName, attempt: attempt, notBefore: nil)
            ])
            recordSubmitted(stepId, operation.stepName, .call)
            return .done(runId)
        }
        let sent = await endpoint.http.sendKeepingSecrets(outgoing)
        switch CallResolver(workflow: definition.workflow).resolve(operation, request: request, sent: sent, attempt: attempt, now: endpoint.clock()) {
        case .completed(let entry):
            return try await record(entry)
        case .retry(let at, let error):
            return .retryAfter(QStashTime.delay(from: endpoint.clock(), to: at), type: error.type, error.description)
        }
    }
}
