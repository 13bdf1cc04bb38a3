import StepwiseExpressions
import StepwiseLanguage

/// Decides what the response to a `call` step means once the engine has performed it: the step's
/// result (any status is a result unless `expect` says otherwise), another try later per the
/// step's retry policy, or a failure.
public struct CallResolver: Sendable {
    /// What becomes of one try of a call.
    public enum Resolution: Sendable, Equatable {
        /// The step's entry (a result, or the failure its `catch` or the run handles).
        case completed(JournalEntry)
        /// Try again at `at`.
        case retry(at: TimestampValue, error: StepError)
    }

    private let workflow: Workflow
    private let retryDelayScale: Double

    /// Resolves the calls of `workflow`, the delays of its retry policies multiplied by `retryDelayScale`.
    public init(workflow: Workflow, retryDelayScale: Double = 1) {
        self.workflow = workflow
        self.retryDelayScale = retryDelayScale
    }

    /// Resolves try number `attempt` (0-based) of `operation`'s `request`.
    public func resolve(
        _ operation: StepOperation, request: CallRequest, sent: Result<IncomingResponse, TransportFailure>, attempt: Int, now: TimestampValue
    ) -> Resolution {
        let failure: StepError
        var retryAfter: DurationValue?
        switch sent {
        case .success(let response):
            let outcome = ResponseClassification.outcome(
                of: response, expected: request.expectedStatuses, format: request.responseFormat, failsOnServerErrors: false,
                step: operation.stepName)
            switch outcome {
            case .success(let result): return .completed(operation.entry(out: result))
            case .failure(let error): failure = error
            }
            retryAfter = ResponseClassification.retryAfter(response)
        case .failure(let error):
            failure = StepError(message: error.message, type: error.kind.rawValue, step: operation.stepName)
        }
        guard let step = workflow.step(atJournaledPath: operation.stepName) else { return .completed(operation.entry(out: nil, error: failure)) }
        let policy = RetrySchedule(step: step, workflow: workflow, delayScale: retryDelayScale)
        guard policy.allowsRetry(after: attempt, for: failure) else { return .completed(operation.entry(out: nil, error: failure)) }
        let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter)
        return .retry(at: (try? now.adding(delay)) ?? now, error: failure)
    }
}
