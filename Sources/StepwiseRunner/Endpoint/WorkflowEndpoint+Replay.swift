import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Deliveries of a run's log: replay, then submit the one new step (§4.5, §4.6).
extension WorkflowEndpoint {
    /// Replays the delivered log and submits what the walk reached.
    func replay(_ request: EndpointRequest) async throws(EndpointReplyFailure) -> EndpointReply {
        let (runId, definition) = try pinnedRun(request)
        let journal: ProtocolJournal
        do {
            journal = try logs.journal(runId: runId, body: request.body)
        } catch {
            return .nonRetryable(type: "WorkflowError", "the delivery's body is not a raw step array this runner wrote: \(error.message)")
        }
        if journal.endsWithDuplicate { return .done(runId, "duplicate-step") }
        // A warm runner gets only the entries it has not seen, as from the engine in process.
        let warm = min(runner.warmJournalCount(runId: runId) ?? 0, journal.entries.count)
        var delivery = Delivery(
            runId: runId, workflow: definition.name, definitionHash: definition.hash, journal: Array(journal.entries[warm...]),
            journalBase: warm, startedAt: Self.createdAt(request) ?? clock(), retried: Int(request.headers["upstash-retried"] ?? "") ?? 0,
            plans: journal.plans)
        events.record(.runSingle, runId: runId, ["replayed": .int(Int64(journal.entries.count - 1))])
        let publisher = OutcomePublisher(
            endpoint: self, runId: runId, messages: messages(runId: runId, request, definition), definition: definition,
            nextStepId: journal.nextStepId, target: journal.plans.target, targetPlanOut: journal.targetPlanOut, attempt: delivery.retried)
        if let timedOut = Self.timedOut(definition, request, now: clock()) {
            logs.forget(runId)
            return await publisher.submit(timedOut)
        }
        var outcome = await runner.deliver(delivery)
        if outcome == .needsWholeJournal {
            delivery.journal = journal.entries
            delivery.journalBase = 0
            outcome = await runner.deliver(delivery)
        }
        switch outcome {
        case .completed, .failed, .canceled, .rejected: logs.forget(runId)
        case .submitted, .finished, .blocked, .needsWholeJournal: break
        }
        return await publisher.submit(outcome)
    }

    /// The run's failure when a delivery comes after its workflow's `timeout` (counted from
    /// `Upstash-Workflow-CreatedAt`), before any further step runs, as in process; `nil` otherwise.
    /// Unlike in process, nothing wakes the run at its deadline: a sleep or a wait then ends first.
    static func timedOut(_ definition: WorkflowDefinition, _ request: EndpointRequest, now: TimestampValue) -> DeliveryOutcome? {
        guard let limit = definition.workflow.timeout?.value, let created = createdAt(request), let deadline = try? created.adding(limit),
            now >= deadline
        else { return nil }
        return .failed(.runTimeout(limit))
    }

    /// `Upstash-Workflow-CreatedAt` (unix milliseconds), the run's start.
    static func createdAt(_ request: EndpointRequest) -> TimestampValue? {
        request.headers["upstash-workflow-createdat"].flatMap { Int64($0) }.flatMap(createdAt(milliseconds:))
    }

    /// A run's creation time from unix milliseconds; `nil` for 0 (unknown) or out of range.
    static func createdAt(milliseconds: Int64) -> TimestampValue? {
        guard milliseconds > 0 else { return nil }
        return TimestampValue(millisecondsSinceEpoch: milliseconds)
    }
}
