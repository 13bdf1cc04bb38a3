import Foundation
import StepwiseExpressions
import StepwiseProtocol

/// Waits of SDK runs (`POST /v2/wait/{eventId}`, §6.3 of the protocol notes): a notify or the
/// timeout completes the `Wait` step by publishing its result, as if the SDK had.
extension WorkflowEngine {
    /// Parks the SDK run named by `headers` on `event` as the wait request `body` says. An event
    /// kept for the run (a notify that came first) resolves it at once.
    public func wait(event: String, headers: HeaderFields, body: [UInt8]) async throws -> Result<Void, PublishRefusal> {
        let request: WaitRequest
        let runId: String
        let now = clock()
        let deadline: TimestampValue
        do throws(ProtocolError) {
            request = try WaitRequest(jsonBytes: body)
            let options = try MessageOptions(headers: headers, prefix: "upstash-")
            guard let named = options.workflow.runId else {
                throw ProtocolError("header 'Upstash-Workflow-RunId' is missing; a wait belongs to a run")
            }
            runId = named
            deadline = try now.after(request.timeoutDuration, for: "'timeout': a wait")
            // The wait's headers and its timeout's are published when it resolves: new messages.
            try NewMessageRules.check(options, headerPrefix: "Upstash-", at: now)
            let timeoutHeaders = HeaderFields(request.timeoutHeaders.map { ($0.name, $0.value) })
            try NewMessageRules.check(try MessageOptions(headers: timeoutHeaders, prefix: "upstash-"), headerPrefix: "timeoutHeaders: Upstash-", at: now)
        } catch {
            return .failure(.invalid(error))
        }
        let timeoutId = QueuedMessage.freshId()
        let wait = EndpointWait(runId: runId, eventId: event, request: request, headers: headers, timeoutMessageId: timeoutId)
        let timeout = QueuedMessage(
            id: timeoutId, role: .waitTimeout, runId: runId, destination: request.timeoutUrl,
            body: Array(try JSONEncoder().encode(wait)), dueAt: deadline)
        if let refusal = PublishRefusal(try await store.registerEndpointWait(wait, timeout: timeout, at: now)) { return .failure(refusal) }
        let kept = request.step.stepType == WebhookRequest.stepType
            ? try await store.takeFirstEvent(runId: runId, prefix: WebhookRequest.lookbackPrefix(eventId: event))
            : try await store.takeKeptNotification(runId: runId, event: event)
        if let kept {
            _ = try await resolve(wait, eventBody: EndpointWake.eventBody(kept))
        }
        queueChanged()
        return .success(())
    }

    /// Completes SDK run `runId`'s `WaitForWebhook` wait on `eventId` with `request` (a call of
    /// the URL its `createWebhook` step made), or keeps the request for that wait when it has not
    /// begun yet (lookback). Waits for events are left alone: a webhook is called without the
    /// token, and only its own wait takes it. `.noRun` unless the run is a running SDK run whose
    /// log made that webhook.
    public func receiveWebhook(runId: String, eventId: String, request: WebhookRequest) async throws -> WebhookOutcome {
        guard WebhookRequest.isEventIdShaped(eventId), let run = try await store.run(id: runId), run.endpoint != nil, run.status == .running,
            WebhookRequest.created(eventId: eventId, in: try await store.runLog(runId: runId, through: nil))
        else { return .noRun }
        let body = request.eventBody
        if try await completeWebhookWait(runId: runId, eventId: eventId, with: body) { return .completed }
        let outcome = try await keepWebhookCall(runId: runId, eventId: eventId, body: body, returned: false)
        guard outcome == .kept else { return outcome }
        // A wait that began meanwhile found nothing kept: hand it the first call kept (a take is
        // atomic, so each call completes one wait once, here or in `wait`); a call nothing
        // completed is kept again, a few times at most, as waits keep beginning.
        for _ in 0..<3 {
            guard try await !webhookWaits(runId: runId, eventId: eventId).isEmpty,
                let kept = try await store.takeFirstEvent(runId: runId, prefix: WebhookRequest.lookbackPrefix(eventId: eventId))
            else { return .kept }
            let bytes = EndpointWake.eventBody(kept)
            if try await completeWebhookWait(runId: runId, eventId: eventId, with: bytes) { continue }
            guard try await keepWebhookCall(runId: runId, eventId: eventId, body: bytes, returned: true) == .kept else { return .kept }
        }
        return .kept
    }

    private func keepWebhookCall(runId: String, eventId: String, body: [UInt8], returned: Bool) async throws -> WebhookOutcome {
        try await store.keepWebhookCall(runId: runId, eventId: eventId, request: String(decoding: body, as: UTF8.self), returned: returned, at: clock())
    }

    /// The run's waiting `WaitForWebhook` steps on `eventId`.
    private func webhookWaits(runId: String, eventId: String) async throws -> [EndpointWait] {
        try await store.endpointWaits(event: eventId, runId: runId).filter { WebhookRequest.completes(step: $0.step) }
    }

    /// Completes the run's waiting `WaitForWebhook` step on `eventId` with `body`; whether it did.
    private func completeWebhookWait(runId: String, eventId: String, with body: [UInt8]) async throws -> Bool {
        for wait in try await webhookWaits(runId: runId, eventId: eventId) where try await resolve(wait, eventBody: body) { return true }
        return false
    }

    /// Completes `wait` with the event's body, or with its timeout when `nil`; false when it was
    /// already completed or its run ended.
    func resolve(_ wait: EndpointWait, eventBody: [UInt8]?) async throws -> Bool {
        try await delivery(resolving: wait, eventBody: eventBody) != nil
    }

    /// Completes `wait` as `resolve` does; the id of the message that delivers the outcome, or
    /// `nil` when nothing was completed.
    private func delivery(resolving wait: EndpointWait, eventBody: [UInt8]?) async throws -> String? {
        let message = try wait.resolution(eventBody: eventBody)
        let planner = try await planner(for: [message])
        let publication = try planner.plan(message)
        guard try await store.resolveEndpointWait(wait, with: publication, at: planner.now) else { return nil }
        queueChanged()
        return publication.messageId
    }

    /// A claimed timeout of a wait: completes the wait, or drops the message when a notify came first.
    func fireWaitTimeout(_ message: QueuedMessage) async throws {
        if let wait = try? JSONDecoder().decode(EndpointWait.self, from: Data(message.body ?? [])), try await resolve(wait, eventBody: nil) {
            return
        }
        _ = try await store.finishAttempt(message, owner: owner, with: AttemptFollowUp(decidedAt: clock()))
    }

    /// The SDK runs on `event` woken with `body`: `runId`'s only when given.
    func wakeEndpointWaits(event: String, body: [UInt8], runId: String?) async throws -> [WokenRun] {
        var woken: [WokenRun] = []
        for wait in try await store.endpointWaits(event: event, runId: runId) {
            // Read first: the timeout's message goes with the wait.
            let deadline = try await store.queuedMessage(id: wait.timeoutMessageId)?.message.dueAt
            guard let messageId = try await delivery(resolving: wait, eventBody: body) else { continue }
            woken.append(WokenRun(wait: wait, messageId: messageId, deadline: deadline))
            // One event for one run: its oldest wait takes it (`RunTransitions.wake`).
            if runId != nil { break }
        }
        return woken
    }

}

extension WorkflowEngine {
    /// The waits among `pending`, the steps of YAML run `runId` that the engine is completing,
    /// in step order: what each waits for and until when.
    public func pendingWaits(runId: String, pending: Set<String>) async throws -> [PendingWait] {
        var waits: [PendingWait] = []
        for step in pending.sorted() {
            guard case .wait(let event, let timeoutAt)? = try await store.operation(runId: runId, stepName: step)?.kind else { continue }
            waits.append(PendingWait(step: step, event: event, timeoutAt: timeoutAt))
        }
        return waits
    }
}
