/// The options of a message, of its callback or of its failure callback, read from the header
/// grammar of §2.3–2.4 behind one prefix (`Upstash-Retries`, `Upstash-Callback-Retries`, …).
public struct MessageOptions: Sendable {
    /// `…-Forward-<H>` headers, prefix stripped, original spelling and order.
    public var forwardedHeaders: [(name: String, value: String)] = []
    /// `…-Method`; the delivery uses POST when absent.
    public var method: String?
    /// `…-Delay`.
    public var delay: WireDuration?
    /// `…-Not-Before` in unix seconds; wins over `delay`.
    public var notBefore: Int64?
    /// `…-Retries`; QStash's default is 3 when absent.
    public var retries: Int?
    /// `…-Retry-Delay`, parsed at publish time.
    public var retryDelay: RetryDelayExpression?
    /// `…-Timeout`, a duration or bare seconds.
    public var timeout: WireDuration?
    /// `…-Flow-Control-Key` with `…-Flow-Control-Value`.
    public var flowControl: FlowControl?
    /// `…-Deduplication-Id`.
    public var deduplicationId: String?
    /// `…-Content-Based-Deduplication: true`.
    public var contentBasedDeduplication = false
    /// `…-Label` (comma-separated for several).
    public var label: String?
    /// `…-Redact-Fields`: what the APIs and logs show redacted.
    public var redaction: MessageRedaction?
    /// The workflow headers behind the same prefix.
    public var workflow = WorkflowControl()

    /// Options with nothing set.
    public init() {}

    /// The methods a delivery may use.
    public static let methods: Set<String> = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]

    /// Reads the options behind `prefix` (lowercase, ending in `-`) from `headers`.
    public init(headers: HeaderFields, prefix: String) throws(ProtocolError) {
        let options = OptionHeaders(headers: headers, prefix: prefix)
        forwardedHeaders = options.forwarded
        method = try options.parsed("method") { (text) throws(ProtocolError) in
            guard Self.methods.contains(text.uppercased()) else {
                throw ProtocolError("'\(text)' is not one of \(Self.methods.sorted().joined(separator: " "))")
            }
            return text.uppercased()
        }
        delay = try options.duration("delay", bareSeconds: false)
        notBefore = try options.parsed("not-before") { (text) throws(ProtocolError) in
            guard let seconds = Int64(text.trimmingSpaces()), seconds >= 0 else { throw ProtocolError("'\(text)' is not unix seconds") }
            return seconds
        }
        retries = try options.count("retries")
        retryDelay = try options.parsed("retry-delay") { (text) throws(ProtocolError) in try RetryDelayExpression(text) }
        timeout = try options.duration("timeout", bareSeconds: true)
        if let key = options.text("flow-control-key") {
            guard !key.hasPrefix(QStashName.queueFlowKeyPrefix) else {
                throw ProtocolError("flow-control key '\(key)' is reserved: keys starting with '\(QStashName.queueFlowKeyPrefix)' are the queues' own")
            }
            flowControl = try options.parsed("flow-control-value") { (text) throws(ProtocolError) in try FlowControl(key: key, value: text) }
                ?? FlowControl(key: key)
        } else if let field = headers.field(prefix + "flow-control-value") {
            throw ProtocolError("header '\(field.name)' needs a flow-control key header")
        }
        deduplicationId = options.text("deduplication-id")
        contentBasedDeduplication = try options.flag("content-based-deduplication") ?? false
        // An empty header is no label, as an empty value is elsewhere. Its text is checked where a
        // client's new message comes in (`LabelHeader.check`), not when a stored one is read again.
        label = options.text("label").flatMap { $0.isEmpty ? nil : $0 }
        redaction = try options.parsed("redact-fields") { (text) throws(ProtocolError) in try MessageRedaction(parsing: text) }
        workflow = try WorkflowControl(headers: options)
    }
}
