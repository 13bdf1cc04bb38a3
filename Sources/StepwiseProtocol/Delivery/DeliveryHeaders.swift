/// The headers QStash sends with a delivery (§4.1): the message's forwarded headers, minus
/// hop-by-hop ones and stale QStash headers a re-forwarded request may carry, then the server's
/// own `Upstash-*` headers, which therefore always win.
public struct DeliveryHeaders: Sendable {
    /// Forwarded header names never passed on: hop-by-hop headers (the server's HTTP client sets
    /// its own) and the QStash delivery headers this delivery sets afresh. A first invocation
    /// re-forwards every incoming header, so a started-by-QStash run would otherwise carry an old
    /// `Upstash-Signature` next to the new one and fail verification.
    public static let droppedNames: Set<String> = [
        "content-length", "host", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-connection", "proxy-authenticate", "proxy-authorization", "expect",
        "upstash-signature", "upstash-message-id", "upstash-retried", "upstash-workflow-runid", "upstash-workflow-createdat",
        "upstash-topic-name", "upstash-caller-ip",
    ]

    /// The parts of one delivery attempt.
    public var signature: String
    public var messageId: String
    /// Attempts before this one (0 on the first).
    public var retried: Int
    public var runId: String?
    /// Run creation, unix milliseconds.
    public var runCreatedAt: Int64?
    public var contentType: String?
    /// The URL group the message was published to (`Upstash-Topic-Name`).
    public var topicName: String?
    /// The address of the client that published the message (`Upstash-Caller-Ip`).
    public var callerIp: String?
    /// The message's forwarded headers (`Upstash-Forward-*`, prefix stripped, or run-level ones).
    public var forwarded: [(name: String, value: String)]

    /// Headers for one attempt.
    public init(
        signature: String, messageId: String, retried: Int, runId: String? = nil, runCreatedAt: Int64? = nil,
        contentType: String? = nil, topicName: String? = nil, callerIp: String? = nil, forwarded: [(name: String, value: String)] = []
    ) {
        self.signature = signature
        self.messageId = messageId
        self.retried = retried
        self.runId = runId
        self.runCreatedAt = runCreatedAt
        self.contentType = contentType
        self.topicName = topicName
        self.callerIp = callerIp
        self.forwarded = forwarded
    }

    /// The header fields in sending order.
    public var fields: HeaderFields {
        // A forwarded run id is stale when the delivery names its run, and the only one when it
        // does not (a plain message about a run, such as a failure notice).
        let dropped = runId == nil ? Self.droppedNames.subtracting(["upstash-workflow-runid"]) : Self.droppedNames
        var headers = HeaderFields(forwarded.filter { !dropped.contains($0.name.lowercased()) })
        if let contentType {
            headers.remove("Content-Type")
            headers.append("Content-Type", contentType)
        }
        headers.append("Upstash-Signature", signature)
        headers.append("Upstash-Message-Id", messageId)
        headers.append("Upstash-Retried", String(retried))
        if let runId { headers.append("Upstash-Workflow-RunId", runId) }
        if let runCreatedAt { headers.append("Upstash-Workflow-CreatedAt", String(runCreatedAt)) }
        if let topicName { headers.append("Upstash-Topic-Name", topicName) }
        if let callerIp { headers.append("Upstash-Caller-Ip", callerIp) }
        headers.append("User-Agent", "Upstash-QStash")
        return headers
    }
}
