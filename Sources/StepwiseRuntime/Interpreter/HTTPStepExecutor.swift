import Foundation
import StepwiseExpressions
import StepwiseLanguage

/// Executes an `http` step: replays its journaled result, or builds the request (secrets resolved
/// at send time, an `Idempotency-Key` stable across retries) for the interpreter to send, and
/// turns what came back into the step's result, another try later, or a failure.
struct HTTPStepExecutor: Sendable {
    let interpreter: WorkflowInterpreter
    let request: HTTPRequest
    let step: Step
    let path: String

    /// Statuses retried when a step has no `retry.on`: rate limiting and gateway trouble.
    static let retriedStatuses: Set<Int> = [429, 502, 503, 504]
    static let defaultTimeout = DurationValue.seconds(30)

    func execute(_ context: WorkflowContext, _ state: ExecutionState) throws(ExecutionSignal) -> Value {
        if let entry = try WorkflowInterpreter.interrupting({ () throws(StepInterruption) in try context.replay(path, .run) }) {
            if let error = entry.error { throw .failed(error) }
            return entry.out ?? .null
        }
        // Never send a request while only rebuilding state (before on_failure).
        guard context.acceptsNewSteps else { throw .interrupted(.journalExhausted) }
        let timeout = context.limited(step.timeout(besides: request.timeout, standard: Self.defaultTimeout))
        let outgoing: OutgoingRequest
        do {
            let rendered = try RequestRenderer(request: request, variables: state.variables, limits: interpreter.limits).render(runId: context.runId, path: path, timeout: timeout)
            outgoing = try rendered.outgoing(secrets: interpreter.secrets, declared: interpreter.workflow.secrets.map(\.value))
        } catch {
            let failure = StepError(message: error.message, type: error.stepErrorType, step: path)
            try WorkflowInterpreter.interrupting { () throws(StepInterruption) in try context.recordFailureOfPlannedStep(path, .run, failure) }
            throw .failed(failure)
        }
        throw .frontier([.request(self, outgoing, attempt: context.attempt(of: path))])
    }

    /// Sends `outgoing` and decides what it means for the step.
    func send(_ outgoing: OutgoingRequest, attempt: Int, now: @Sendable () -> TimestampValue) async -> StepSubmission {
        let sent = await interpreter.http.sendKeepingSecrets(outgoing)
        let failure: StepError
        var retryAfter: DurationValue?
        switch sent {
        case .success(let response):
            let outcome = ResponseClassification.outcome(
                of: response, expected: request.expectedStatuses, format: request.responseFormat, failsOnServerErrors: true, step: path)
            switch outcome {
            case .success(let result): return .record(JournalEntry(stepId: 0, stepName: path, stepType: .run, out: result))
            case .failure(let error): failure = error
            }
            retryAfter = ResponseClassification.retryAfter(response)
        case .failure(let error):
            failure = StepError(message: error.message, type: error.kind.rawValue, step: path)
        }
        let policy = RetrySchedule(step: step, workflow: interpreter.workflow, delayScale: interpreter.retryDelayScale)
        guard policy.allowsRetry(after: attempt, for: failure) else {
            return .record(JournalEntry(stepId: 0, stepName: path, stepType: .run, error: failure))
        }
        let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
        let at = (try? now().adding(delay)) ?? now()
        return .park(StepOperation(stepName: path, stepType: .run, kind: .retry(at: at, error: failure)))
    }
}

extension DurationValue {
    /// A whole number of seconds (within range by construction for the values used here).
    public static func seconds(_ count: Int64) -> DurationValue {
        (try? DurationValue(nanoseconds: Int128(count) * 1_000_000_000)) ?? .zero
    }

    /// A duration from fractional seconds, clamped to one day.
    static func seconds(fraction: Double) -> DurationValue {
        let clamped = max(0, min(fraction, 86_400))
        return (try? DurationValue(nanoseconds: Int128(clamped * 1e9))) ?? .zero
    }
}
