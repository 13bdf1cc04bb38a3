import StepwiseProtocol

/// Where the callback or the failure callback of a queued message goes, with the options of that
/// later message, as the publishing SDK asked (`Upstash-Callback-*`, `Upstash-Failure-Callback-*`).
public struct QueuedTarget: Sendable, Codable, Equatable {
    public var url: String
    public var method: String
    public var headers: [ForwardedHeader]
    public var retries: Int
    /// `…-Retry-Delay` and `…-Timeout` of the later message, as `QueuedMessage` keeps them.
    public var retryDelay: String?
    public var timeoutMilliseconds: Int64?
    /// The run id the delivery names in `Upstash-Workflow-RunId` (`…-Workflow-RunId` behind the prefix).
    public var runId: String?
    /// For a call's callback: whether the SDK reads its body from the run's log when it comes
    /// empty (`QueuedMessage.fetchesLog`, from `Upstash-Callback-Feature-Set`).
    public var fetchesLog: Bool?

    /// A target with the given parts.
    public init(
        url: String, method: String = "POST", headers: [ForwardedHeader] = [], retries: Int = QueuedMessage.defaultRetries,
        retryDelay: String? = nil, timeoutMilliseconds: Int64? = nil, runId: String? = nil
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.retries = retries
        self.retryDelay = retryDelay
        self.timeoutMilliseconds = timeoutMilliseconds
        self.runId = runId
    }

    /// The target a published message names, of the run its options name, else of `runId`;
    /// `nil` when it names none (or an empty URL).
    init?(_ target: MessageTarget?, runId: String?) {
        guard let target, !target.url.isEmpty else { return nil }
        self.init(
            url: target.url, method: target.options.method ?? "POST",
            headers: target.options.forwardedHeaders.map { ForwardedHeader($0.name, $0.value) },
            retries: target.options.retries ?? QueuedMessage.defaultRetries, retryDelay: target.options.retryDelay?.text,
            timeoutMilliseconds: target.options.timeout?.milliseconds, runId: target.options.workflow.runId ?? runId)
    }
}
