import StepwiseExpressions

/// One step of a workflow: an id, exactly one kind, and the common keys.
public struct Step: Sendable {
    public var id: Located<String>
    /// The structural path, the key its result is journaled under (`fanout[].send`).
    public var path: StepPath
    public var kind: StepKind
    public var description: String?
    /// `if`: the step is skipped (result `null`) when this is false.
    public var condition: ValueTemplate?
    public var timeout: Located<DurationValue>?
    public var retry: RetryPolicy?
    /// `catch`: steps run when this step fails after its retries; `error` is in scope.
    public var catchSteps: [Step]
    public var span: SourceSpan

    public init(id: Located<String>, path: StepPath, kind: StepKind, span: SourceSpan) {
        self.id = id
        self.path = path
        self.kind = kind
        description = nil
        condition = nil
        timeout = nil
        retry = nil
        catchSteps = []
        self.span = span
    }

    /// The limit of this step's request or wait: the shorter of the step's `timeout` and the
    /// kind's own (`http.timeout`, `wait_for_event.timeout`) when both are written, either one
    /// alone, else `standard`.
    public func timeout(besides own: Located<DurationValue>?, standard: DurationValue) -> DurationValue {
        [timeout?.value, own?.value].compactMap { $0 }.min() ?? standard
    }

    /// This step followed by every step nested in it, depth first in source order.
    public var selfAndDescendants: [Step] {
        [self] + kind.nestedSteps.flatMap(\.selfAndDescendants) + catchSteps.flatMap(\.selfAndDescendants)
    }

    /// Whether the step is durable (its result is journaled) rather than recomputed on replay.
    public var isDurable: Bool { kind.isDurable }

    /// Whether the step and every step nested in it (cases, branches, loop body, `catch`) are
    /// recomputed on replay: it journals nothing, whichever way it goes.
    public var journalsNothing: Bool { selfAndDescendants.allSatisfy { !$0.isDurable } }
}

/// `retry`: how often and how fast a failed step is tried again.
public struct RetryPolicy: Sendable {
    /// How the delay between attempts grows.
    public enum Backoff: String, Sendable, CaseIterable {
        case constant
        case exponential
    }

    /// What a retry policy reacts to: an HTTP status or an error type.
    public enum Condition: Sendable, Hashable {
        case status(Int)
        case errorType(String)
    }

    /// The error types `on` may name: those of a request that failed, and a missing secret.
    public static let retryableErrorTypes = [
        "HTTPError", "ConnectionError", "Timeout", "InvalidRequest", "ResponseTooLarge", "ResponseNotJSON", "SecretMissing",
    ]

    public var attempts: Int
    public var backoff: Backoff
    public var initial: DurationValue?
    public var maximum: DurationValue?
    public var jitter: Bool
    public var conditions: [Condition]
    public var span: SourceSpan
}
