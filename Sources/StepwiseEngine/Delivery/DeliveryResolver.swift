import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

/// Decides what a delivery's outcome does to its run (the engine's state machine): append the
/// step and deliver again, retry later, finish, or move on to `on_failure` exactly once.
struct DeliveryResolver {
    let run: RunRecord
    let message: PendingMessage
    /// The definition the run is pinned to; `nil` when no node has it (the run can only fail).
    let workflow: Workflow?
    let journalLength: Int
    /// Failed tries so far of steps being retried: the attempt number recorded for a retry.
    var failures: [String: Int] = [:]
    let startedAt: TimestampValue
    /// When the delivery finished: the reference for "deliver again now" and retry delays.
    var now: TimestampValue

    func resolve(_ outcome: DeliveryOutcome) -> DeliveryResolution {
        switch outcome {
        case .submitted(let submissions):
            let retries = submissions.compactMap { submission -> StepError? in
                if case .park(let operation) = submission, case .retry(_, let error) = operation.kind { return error }
                return nil
            }
            let outcome = retries.count == submissions.count ? "retry" : "submitted"
            let detail = outcome == "retry" ? retries.map(\.description) : submissions.map(\.stepName)
            return resolution(recording: submissions, next: deadline.map { (0, $0) }, outcome: outcome, detail: detail.joined(separator: ", "))
        case .finished(let submissions, let output):
            // Past the run's deadline the step is recorded and the run's next delivery times it
            // out, as it would if the run had not ended in this delivery.
            if let deadline, now >= deadline { return resolve(.submitted(submissions)) }
            var result = resolution(
                recording: submissions, next: nil, status: .succeeded, outcome: "completed", detail: submissions.map(\.stepName).joined(separator: ", "))
            result.output = output
            return result
        case .blocked:
            return resolution(next: deadline.map { (0, $0) }, outcome: "blocked", detail: nil)
        case .needsWholeJournal:
            // The engine answers this itself with a second delivery; should one still come here,
            // the run is simply delivered again (with the whole journal, as the runner is cold).
            return resolution(next: (message.attempt, now), outcome: "retry", detail: "the runner needs the whole journal")
        case .canceled(let reason, let step):
            var result = resolution(next: nil, status: .canceled, outcome: "canceled", detail: reason)
            result.error = StepError(message: reason ?? "the workflow canceled itself", type: "Canceled", step: step)
            return result
        case .completed(let output):
            var result = resolution(next: nil, status: .succeeded, outcome: "completed", detail: nil)
            result.output = output
            return result
        case .failed(let error):
            return failed(error)
        case .rejected(let reason):
            return failed(StepError(message: reason, type: "Rejected"), handlerAllowed: false)
        }
    }

    /// A run that exceeded its `timeout`.
    func timedOut(_ limit: DurationValue) -> DeliveryResolution {
        failed(.runTimeout(limit))
    }

    private func failed(_ error: StepError, handlerAllowed: Bool = true) -> DeliveryResolution {
        if handlerAllowed, run.phase == .main, workflow?.onFailure.isEmpty == false {
            var result = resolution(next: (0, now), outcome: "failed", detail: error.description)
            result.phase = .failureHandler
            result.error = error
            return result
        }
        var result = resolution(next: nil, status: .failed, outcome: run.phase == .main ? "failed" : "failure handled", detail: error.description)
        result.error = run.error ?? error
        if let url = workflow?.failureURL?.value {
            result.notices = [FailureNotice.message(for: run, error: result.error ?? error, url: url, now: now)]
        }
        return result
    }

    /// A resolution appending or parking `submissions`; its attempt is the first step's failed
    /// tries so far.
    private func resolution(
        recording submissions: [StepSubmission], next: (attempt: Int, dueAt: TimestampValue)?, status: RunStatus = .running, outcome: String,
        detail: String
    ) -> DeliveryResolution {
        var result = resolution(submissions: submissions, next: next, status: status, outcome: outcome, detail: detail)
        result.record.attempt = submissions.first.map { failures[$0.stepName] ?? 0 } ?? 0
        return result
    }

    private func resolution(
        submissions: [StepSubmission] = [], next: (attempt: Int, dueAt: TimestampValue)?, status: RunStatus = .running,
        outcome: String, detail: String?
    ) -> DeliveryResolution {
        let record = AttemptRecord(
            runId: run.id, position: journalLength, attempt: message.attempt, startedAt: startedAt, finishedAt: now,
            outcome: outcome, detail: detail)
        return DeliveryResolution(submissions: submissions, next: next.map(dueByTimeout), status: status, phase: run.phase, record: record)
    }

    /// When the run times out, if it has a `timeout` and is not in `on_failure`: a run waiting for
    /// an operation is delivered then at the latest, and its requests are cut off then.
    var deadline: TimestampValue? {
        guard run.phase == .main, let limit = workflow?.timeout?.value else { return nil }
        return run.deadline ?? (try? run.createdAt.adding(limit))
    }

    /// The next delivery of a run with a `timeout` is due at its deadline at the latest, so that
    /// the run fails then, not when a longer sleep or retry delay would have ended.
    private func dueByTimeout(_ next: (attempt: Int, dueAt: TimestampValue)) -> (attempt: Int, dueAt: TimestampValue) {
        guard let deadline, next.dueAt > deadline else { return next }
        return (next.attempt, deadline)
    }
}
