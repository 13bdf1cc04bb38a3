import Foundation
import StepwiseExpressions
import StepwiseLanguage

/// When a failed step is tried again: the step's `retry` policy, or the default (the workflow's
/// `retries`, QStash's backoff `min(86400, e^(2.5·n))` seconds, on connection errors, timeouts
/// and 429/502/503/504). `Retry-After` from the server is honoured when it asks for longer.
public struct RetrySchedule: Sendable {
    let policy: RetryPolicy?
    let defaultAttempts: Int
    /// What every delay the policy gives is multiplied by (`serve --retry-delay-scale`, for tests
    /// and local development); never a server's `Retry-After`.
    let delayScale: Double

    /// The policy of `step` in `workflow` (the workflow's `retries` when the step has none), its
    /// delays multiplied by `delayScale`.
    public init(step: Step, workflow: Workflow, delayScale: Double = 1) {
        policy = step.retry
        defaultAttempts = workflow.retries + 1
        self.delayScale = delayScale
    }

    /// Whether the try numbered `attempt` (0-based) may be followed by another for `failure`.
    public func allowsRetry(after attempt: Int, for failure: StepError) -> Bool {
        guard attempt + 1 < (policy?.attempts ?? defaultAttempts) else { return false }
        guard let conditions = policy?.conditions, !conditions.isEmpty else {
            if let status = failure.status { return HTTPStepExecutor.retriedStatuses.contains(status) }
            return failure.type == TransportFailure.Kind.connection.rawValue || failure.type == TransportFailure.Kind.timeout.rawValue
        }
        return conditions.contains { condition in
            switch condition {
            case .status(let status): failure.status == status
            case .errorType(let type): failure.type == type
            }
        }
    }

    /// How long to wait before the try after `attempt`.
    public func delay(afterAttempt attempt: Int, retryAfter: DurationValue?) -> DurationValue {
        let seconds: Double
        if let policy {
            let initial = policy.initial.map(Self.seconds) ?? 1
            let grown = policy.backoff == .exponential ? initial * pow(2, Double(attempt)) : initial
            let capped = min(grown, policy.maximum.map(Self.seconds) ?? 3_600)
            seconds = policy.jitter ? Double.random(in: (capped / 2)...max(capped / 2, capped)) : capped
        } else {
            seconds = min(86_400, exp(2.5 * Double(attempt + 1)))
        }
        let chosen = DurationValue.seconds(fraction: seconds * delayScale)
        guard let retryAfter, retryAfter > chosen else { return chosen }
        return retryAfter
    }

    private static func seconds(_ duration: DurationValue) -> Double {
        Double(duration.nanoseconds) / 1e9
    }
}
