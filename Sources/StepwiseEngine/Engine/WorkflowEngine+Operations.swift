import Foundation
import StepwiseExpressions
import StepwiseRuntime

/// The operations the engine completes for runs: timers (sleeps, retries, wait timeouts) and calls.
extension WorkflowEngine {
    /// A timer is due: a sleep ends (`{until}`), a wait times out, or a retry may go ahead.
    /// Returns the run's delivery when it was leased in the same commit (`leasingNext`).
    func fireTimer(_ message: PendingMessage, key: String, leasingNext: Bool) async throws -> LeasedDelivery? {
        let asked = ContinuousClock.now
        let fired = try await store.fireTimer(message, owner: owner, leasingNext: leasingNext ? nextLease(of: message.runId) : nil)
        nextLeased(fired.next, of: message, asked: asked, by: key)
        if fired.recorded { await publishRecorded(runId: message.runId, step: message.stepName) }
        if fired.completed, fired.next == nil { wake.signal() }
        return fired.next
    }

    /// Performs a `call` step's request while the run holds no compute. The lease covers the
    /// request's timeout; if the engine dies meanwhile, the call is made again with the same
    /// `Idempotency-Key` after a restart.
    func performCall(_ message: PendingMessage) async throws {
        let startedAt = clock()
        let startedInstant = ContinuousClock.now
        guard let stepName = message.stepName, let operation = try await store.operation(runId: message.runId, stepName: stepName),
            case .call(let request) = operation.kind, let run = try await store.run(id: message.runId),
            let definition = try await definition(pinnedBy: run)
        else {
            _ = try await store.completeOperation(message, owner: owner, entry: nil, record: nil)
            return
        }
        let margin = Duration.seconds(60)
        let timeout = Duration.nanoseconds(Int64(clamping: request.timeout.nanoseconds))
        guard try await store.extendLease(message, owner: owner, until: leaseEnd(from: startedAt, holding: timeout + margin)) else { return }
        try requireLease(.message(message.id))
        leaseGuard.extend(.message(message.id), until: startedInstant + timeout + margin)
        let sent: Result<IncomingResponse, TransportFailure>
        do {
            sent = await calls.sendKeepingSecrets(try request.outgoing(secrets: secrets, declared: definition.workflow.secrets.map(\.value)))
        } catch {
            sent = .failure(TransportFailure(.invalidRequest, error.message))
        }
        try requireLease(.message(message.id))
        let now = clock()
        let resolution = CallResolver(workflow: definition.workflow, retryDelayScale: configuration.retryDelayScale).resolve(operation, request: request, sent: sent, attempt: message.attempt, now: now)
        switch resolution {
        case .completed(let entry):
            let detail = "\(stepName): " + (entry.error?.description ?? "\(request.method) \(OutgoingRequest.withoutUserInfo(request.url)) answered")
            _ = try await store.completeOperation(message, owner: owner, entry: entry, record: callAttempt(message, "call", detail, startedAt, now))
        case .retry(let at, let error):
            logger.info(
                "call \(stepName) of run \(run.id) failed (\(error)); trying again at \(at)", metadata: ["run_id": .string(run.id), "step": .string(stepName)])
            let record = callAttempt(message, "retry", "\(stepName): \(error)", startedAt, now)
            try await store.reschedule(message, owner: owner, attempt: message.attempt + 1, at: at, record: record)
        }
    }

    /// An attempt of a `call` step's request, listed with the run's deliveries.
    private func callAttempt(_ message: PendingMessage, _ outcome: String, _ detail: String, _ started: TimestampValue, _ finished: TimestampValue)
        -> AttemptRecord
    {
        AttemptRecord(
            runId: message.runId, position: AttemptRecord.callPosition, attempt: message.attempt, startedAt: started, finishedAt: finished,
            outcome: outcome, detail: detail)
    }
}
