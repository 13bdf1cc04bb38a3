import StepwiseExpressions

/// A run that a notify woke, with its wait as Upstash's notify answer describes the waiter: an
/// SDK run's wait names where the event goes and the delivery the notify queued; a YAML run goes
/// on in-process, so its wait has a deadline and no destination.
public struct WokenRun: Sendable, Equatable {
    public var runId: String
    /// The queued delivery of the event to an SDK run; `nil` for a YAML run.
    public var messageId: String?
    /// When the wait would have timed out; `nil` when not known.
    public var deadline: TimestampValue?
    /// An SDK run's wait: where the event is delivered, with these headers.
    public var url: String?
    public var headers: [ForwardedHeader] = []
    /// An SDK run's wait: where its timeout would have been delivered, with these headers.
    public var timeoutUrl: String?
    public var timeoutHeaders: [ForwardedHeader] = []

    /// YAML run `runId`, whose wait would have timed out at `deadline`.
    public init(runId: String, deadline: TimestampValue?) {
        self.runId = runId
        self.deadline = deadline
    }

    /// The SDK run whose `wait` the notify resolved by queuing message `messageId`.
    public init(wait: EndpointWait, messageId: String, deadline: TimestampValue?) {
        runId = wait.runId
        self.messageId = messageId
        self.deadline = deadline
        url = wait.url
        headers = wait.headers
        timeoutUrl = wait.timeoutUrl
        timeoutHeaders = wait.timeoutHeaders
    }
}
