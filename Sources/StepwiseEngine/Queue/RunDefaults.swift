import StepwiseProtocol

/// Options an SDK run's trigger set for every later message of the run: the JS SDK 1.x sends
/// them once, on the trigger, with `WF_TriggerOnConfig` in its feature set, and its later
/// messages carry none (§2.6, Tier 1 item 10 of the protocol notes). A later message's own
/// options win, so the Python SDK, which repeats them on every message, is unaffected. Also
/// where a resume or restart from the DLQ keeps its `overrides`, which win over both.
public struct RunDefaults: Sendable, Codable, Equatable {
    public var retries: Int?
    public var retryDelay: String?
    public var timeoutMilliseconds: Int64?
    /// The failure callback; the workflow URL itself when the trigger named none, which makes the
    /// SDK run its failure function if it has one (it answers `…-Failure-Callback-Notfound` if not).
    public var failureCallback: QueuedTarget?
    /// The user headers forwarded on every delivery.
    public var headers: [ForwardedHeader]
    /// The flow control every delivery of the run is admitted under.
    public var flowControl: FlowControl?
    /// What a resume or restart from the DLQ set; these win over a message's own options.
    public var overrides: RunOverrides?
    /// What the trigger's `Upstash-Redact-Fields` names: Upstash redacts per run, so every later
    /// message of the run (the SDK repeats the header on none) and the run's log in the logs API
    /// show those fields redacted too.
    public var redaction: MessageRedaction?
    /// For a run whose first delivery said `Upstash-Workflow-Unknown-Sdk`: true until the SDK
    /// triggered the run as its own, false after (`RunTransitions.deliverAgain`); `nil` otherwise.
    public var awaitsSDKTrigger: Bool?

    /// The feature flag that asks for run-level options.
    public static let feature = "WF_TriggerOnConfig"

    /// The defaults the trigger `message` of run `runId` at `url` sets.
    init(trigger message: PublishedMessage, runId: String, url: String) {
        let options = message.options
        retries = options.retries
        retryDelay = options.retryDelay?.text
        timeoutMilliseconds = options.timeout?.milliseconds
        failureCallback = QueuedTarget(message.failureCallback, runId: runId)
            ?? QueuedTarget(
                url: url, headers: [ForwardedHeader("Upstash-Workflow-Is-Failure", "true"), ForwardedHeader("Upstash-Workflow-Failure-Callback", "true")],
                retries: options.retries ?? QueuedMessage.defaultRetries, runId: runId)
        let isUnknownSDKMark = { (name: String) in name.equalsIgnoringASCIICase(WorkflowTrigger.unknownSDKHeader) }
        headers = options.forwardedHeaders.filter { !isUnknownSDKMark($0.name) }.map { ForwardedHeader($0.name, $0.value) }
        if options.forwardedHeaders.contains(where: { isUnknownSDKMark($0.name) && $0.value.lowercased() == "true" }) { awaitsSDKTrigger = true }
        flowControl = options.flowControl.map(FlowControl.init)
        redaction = options.redaction
    }

    /// The defaults of a run whose trigger set only a redaction (the Python SDK's, which repeats
    /// its other options on every message): nothing else of a message changes.
    init(redaction: MessageRedaction) {
        headers = []
        self.redaction = redaction
    }

    /// No defaults, only `overrides`: a run whose trigger set none (the Python SDK's) resumed with options.
    init(overrides: RunOverrides) {
        headers = []
        self.overrides = overrides
    }

    /// These defaults for run `runId`, restarting the run they were set for: its failure
    /// callbacks name the new run.
    func moved(to runId: String) -> RunDefaults {
        var moved = self
        moved.failureCallback?.runId = runId
        moved.overrides?.failureCallback?.runId = runId
        return moved
    }

    /// `defaults` with `overrides` added to any set before; `defaults` unchanged when
    /// `overrides` sets nothing.
    static func adding(_ overrides: RunOverrides, to defaults: RunDefaults?) -> RunDefaults? {
        guard !overrides.isEmpty else { return defaults }
        guard var added = defaults else { return RunDefaults(overrides: overrides) }
        added.overrides = added.overrides.map { $0.merged(with: overrides) } ?? overrides
        return added
    }

    /// `message` with every option it leaves unset taken from these defaults; forwarded headers it
    /// does not name are added before its own. (The `overrides` are applied where a delivery is
    /// stored: `RunTransitions.apply` and `resume`, `QueuedAttemptResolver` for a call's callback.)
    func applied(to message: QueuedMessage, options: MessageOptions, failureCallback: MessageTarget?) -> QueuedMessage {
        var applied = message
        if options.retries == nil, let retries { applied.retries = retries }
        if options.retryDelay == nil, let retryDelay { applied.retryDelay = retryDelay }
        if options.timeout == nil, let timeoutMilliseconds { applied.timeoutMilliseconds = timeoutMilliseconds }
        if failureCallback == nil { applied.failureCallback = self.failureCallback }
        if options.flowControl == nil, let flowControl { applied.flowControl = flowControl }
        applied = redacted(applied)
        applied.headers = forwarded(with: message.headers)
        return applied
    }

    /// `message` (of this run: a step, a `context.call` request) with the run's redaction when it
    /// names none of its own.
    func redacted(_ message: QueuedMessage) -> QueuedMessage {
        guard message.redaction == nil, let redaction else { return message }
        var redacted = message
        redacted.redaction = redaction
        return redacted
    }

    /// `own` headers of a delivery to the workflow URL with the run's forwarded headers they do
    /// not name before them.
    func forwarded(with own: [ForwardedHeader]) -> [ForwardedHeader] {
        Self.layered(headers, under: own)
    }

    /// `own` headers of a call's callback with the run's forwarded user headers, as QStash's
    /// callbacks carry them (the endpoint sees the trigger's headers on every request of the run),
    /// but not the protocol's `Upstash-Workflow-*`: with `Upstash-Workflow-Sdk-Version` the SDK
    /// would read the callback as a step delivery.
    func forwardedToCallback(with own: [ForwardedHeader]) -> [ForwardedHeader] {
        Self.layered(headers.filter { !$0.name.lowercased().hasPrefix("upstash-workflow-") }, under: own)
    }

    /// The headers of `lower` that `upper` does not name (any case), then `upper`: `upper` wins.
    static func layered(_ lower: [ForwardedHeader], under upper: [ForwardedHeader]) -> [ForwardedHeader] {
        let named = Set(upper.map { $0.name.lowercased() })
        return lower.filter { !named.contains($0.name.lowercased()) } + upper
    }
}
