/// The options Upstash's DLQ resume and restart take as headers (`POST /v2/workflows/dlq/resume`,
/// `…/restart`, one entry or many; the JS SDK's `client.dlq.resume(…, {retries, flowControl})`):
/// a resumed or restarted run takes them instead of its own for its remaining steps, and its next
/// delivery waits `Upstash-Delay`.
public struct ResumeOptions: Sendable {
    /// `Upstash-Retries`.
    public var retries: Int?
    /// `Upstash-Retry-Delay`.
    public var retryDelay: RetryDelayExpression?
    /// `Upstash-Flow-Control-Key` with `-Value`.
    public var flowControl: FlowControl?
    /// `Upstash-Label`: the run's label from now on.
    public var label: String?
    /// `Upstash-Failure-Callback` with its own `Upstash-Failure-Callback-*` options.
    public var failureCallback: MessageTarget?
    /// `Upstash-Delay`: how long after the resume the next delivery is due.
    public var delay: WireDuration?

    /// No options: the run goes on with its own.
    public init() {}

    /// Options of a publish that a resumed or restarted run cannot take: refused rather than
    /// ignored, which would leave the caller believing them set.
    static let notApplied = [
        "upstash-not-before", "upstash-timeout", "upstash-callback", "upstash-method", "upstash-deduplication-id",
        "upstash-content-based-deduplication", "upstash-redact-fields",
    ]

    /// The options `headers` give; an error names the header that is malformed, or that a
    /// resumed run cannot take (`notApplied`, `Upstash-Forward-*`, `Upstash-Callback-*`).
    public init(headers: HeaderFields) throws(ProtocolError) {
        let refused = headers.fields.first { field in
            let name = field.name.lowercased()
            return Self.notApplied.contains(name) || name.hasPrefix("upstash-forward-") || name.hasPrefix("upstash-callback-")
        }
        if let refused { throw ProtocolError("header '\(refused.name)' is not applied to a resumed or restarted run") }
        let options = try MessageOptions(headers: headers, prefix: "upstash-")
        retries = options.retries
        retryDelay = options.retryDelay
        flowControl = options.flowControl
        label = options.label
        delay = options.delay
        failureCallback = try MessageTarget.read(from: headers, urlHeader: "upstash-failure-callback")
        if let field = headers.field("upstash-failure-callback"), field.value.isEmpty {
            throw ProtocolError("header '\(field.name)' is empty: give the URL the run's failure is reported to")
        }
        if let field = headers.field("upstash-label") {
            // An empty header cannot mean "no label" here: it would clear the run's.
            guard !field.value.isEmpty else { throw ProtocolError("header '\(field.name)' is empty: give the label the run is found by") }
            try LabelHeader.check(field.value, header: field.name)
        }
        if failureCallback == nil, let option = headers.suffixes(after: "upstash-failure-callback-").first {
            throw ProtocolError("header 'Upstash-Failure-Callback-\(option.name)' needs the Upstash-Failure-Callback header naming the URL")
        }
    }

    /// The headers these options were read from, in Upstash's spelling; empty when none was given.
    public var headerNames: [String] {
        [
            retries.map { _ in "Upstash-Retries" }, retryDelay.map { _ in "Upstash-Retry-Delay" }, flowControl.map { _ in "Upstash-Flow-Control-Key" },
            label.map { _ in "Upstash-Label" }, failureCallback.map { _ in "Upstash-Failure-Callback" }, delay.map { _ in "Upstash-Delay" },
        ].compactMap { $0 }
    }
}
