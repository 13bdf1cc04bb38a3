import StepwiseProtocol

/// The options a resume or restart from the DLQ set for the rest of an SDK run
/// (`ResumeOptions`), kept with its `RunDefaults`. Unlike those defaults they win over a
/// delivery's own options, so an SDK that repeats its options on every message (the Python SDK)
/// cannot undo them. They apply to the run's step deliveries and to the callbacks of its calls
/// (wherever a callback goes), applied where each is stored, not to its `context.call` requests,
/// whose retries and flow control are the call's own.
public struct RunOverrides: Sendable, Codable, Equatable {
    /// `Upstash-Retries` of each delivery.
    public var retries: Int?
    /// `Upstash-Retry-Delay` of each delivery, as `QueuedMessage` keeps it.
    public var retryDelay: String?
    /// The flow control each delivery is admitted under.
    public var flowControl: FlowControl?
    /// Where the run's failure is reported, instead of its failure URL or function.
    public var failureCallback: QueuedTarget?

    /// The overrides of `options` for run `runId`.
    init(_ options: ResumeOptions, runId: String) {
        retries = options.retries
        retryDelay = options.retryDelay?.text
        flowControl = options.flowControl.map(FlowControl.init)
        failureCallback = QueuedTarget(options.failureCallback, runId: runId)
    }

    /// Whether none is set.
    var isEmpty: Bool { self == RunOverrides(ResumeOptions(), runId: "") }

    /// These overrides with `newer`'s where it sets one: a second resume adds to the first's.
    func merged(with newer: RunOverrides) -> RunOverrides {
        var merged = self
        merged.retries = newer.retries ?? retries
        merged.retryDelay = newer.retryDelay ?? retryDelay
        merged.flowControl = newer.flowControl ?? flowControl
        merged.failureCallback = newer.failureCallback ?? failureCallback
        return merged
    }

    /// `message` with these overrides when it is a step's delivery or a call's callback; else unchanged.
    func applied(to message: QueuedMessage) -> QueuedMessage {
        guard message.role == .workflow || message.role == .callback else { return message }
        var applied = message
        if let retries { applied.retries = retries }
        if let retryDelay { applied.retryDelay = retryDelay }
        // A named queue's message goes in its queue's turn, under the queue's own limits.
        if let flowControl, message.queue == nil { applied.flowControl = flowControl }
        if let failureCallback { applied.failureCallback = failureCallback }
        return applied
    }

    /// The flow-control key a run is found by once these overrides apply to its delivery
    /// `message`: theirs, unless `message` goes in a named queue's turn (`applied(to:)` leaves its
    /// flow control alone); else `current`, the run's key until now.
    func flowControlKey(of message: QueuedMessage, current: String?) -> String? {
        guard message.queue == nil, let key = flowControl?.key else { return current }
        return key
    }
}
