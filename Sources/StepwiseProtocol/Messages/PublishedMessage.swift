import StepwiseExpressions

/// A message an SDK asked QStash to deliver, from `POST /v2/publish/<destination>` or one item of
/// `POST /v2/batch`, with its options parsed (§2.3–2.7). The body is kept byte-exact.
public struct PublishedMessage: Sendable {
    /// The URL to deliver to, raw; or the name of the URL group it goes to (`urlGroup`).
    public var destination: String
    /// Set when `destination` names a URL group rather than a URL: the message goes to each of
    /// the group's endpoints (`copy(to:endpointName:)`).
    public var urlGroup: String?
    /// The name of the URL group's endpoint this copy goes to, if the endpoint has one.
    public var endpointName: String?
    /// The exact bytes to deliver; `nil` when the batch item had no `body`.
    public var body: [UInt8]?
    /// `Content-Type`, stored and re-sent on delivery.
    public var contentType: String?
    /// The queue (`queue` of a batch item, or `Upstash-Queue-Name`).
    public var queue: String?
    /// All headers as received, for anything not typed here.
    public var headers: HeaderFields
    /// The message's own options (`Upstash-*`).
    public var options: MessageOptions
    /// `Upstash-Callback` and its options.
    public var callback: MessageTarget?
    /// `Upstash-Failure-Callback` and its options.
    public var failureCallback: MessageTarget?
    /// `Upstash-Callback-Failure-Callback`: the failure callback of the callback message.
    public var callbackFailureCallback: MessageTarget?
    /// The IP address of the client that published it (no header: the server's peer).
    public var callerIp: String?
    /// Whether Upstash Workflow's REST API wrote it (`WorkflowTrigger`), not an SDK.
    public internal(set) var isRESTTrigger = false

    /// The path prefix of single publishes.
    public static let publishPathPrefix = "/v2/publish/"

    /// A message to `destination` parsed from `headers`; errors name the offending header.
    public init(destination: String, headers: HeaderFields, body: [UInt8]?, queue: String? = nil) throws(ProtocolError) {
        if QStashName.isValid(destination) {
            urlGroup = destination
        } else {
            try Destination.validate(destination)
        }
        self.destination = destination
        self.body = body
        self.headers = headers
        contentType = headers["content-type"]
        self.queue = try (queue ?? headers["upstash-queue-name"]).map { (name) throws(ProtocolError) in try QStashName.validated(name, as: "queue") }
        options = try MessageOptions(headers: headers, prefix: "upstash-")
        if let name = self.queue, options.flowControl != nil {
            throw ProtocolError("a message to queue '\(name)' keeps to the queue's parallelism: leave out Upstash-Flow-Control-Key and -Value")
        }
        if let name = self.queue, options.delay != nil || options.notBefore != nil {
            throw ProtocolError("a message to queue '\(name)' is delivered in its turn: leave out Upstash-Delay and Upstash-Not-Before")
        }
        callback = try MessageTarget.read(from: headers, urlHeader: "upstash-callback")
        failureCallback = try MessageTarget.read(from: headers, urlHeader: "upstash-failure-callback")
        callbackFailureCallback = try MessageTarget.read(from: headers, urlHeader: "upstash-callback-failure-callback", orWorkflowURL: true)
    }

    /// The path prefix of enqueues: `/v2/enqueue/<queue>/<destination>`.
    public static let enqueuePathPrefix = "/v2/enqueue/"

    /// An enqueue: `target` is the request's path and query exactly as received
    /// (`/v2/enqueue/emails/https://x.test/a`), the queue its first segment after the prefix and
    /// the destination everything after that.
    public init(enqueueTarget target: String, headers: HeaderFields, body: [UInt8]) throws(ProtocolError) {
        let rest = try Destination.fromTarget(target, prefix: Self.enqueuePathPrefix)
        guard let slash = rest.firstIndex(of: "/") else { throw ProtocolError("the path must be \(Self.enqueuePathPrefix)<queue>/<destination>") }
        let queue = try QStashName.validated(String(rest[..<slash]), as: "queue")
        try self.init(destination: String(rest[rest.index(after: slash)...]), headers: headers, body: body, queue: queue)
    }

    /// Whether the message is addressed to its URL group itself, not yet copied to an endpoint.
    public var isToURLGroup: Bool { urlGroup != nil && urlGroup == destination }

    /// This message sent to one endpoint of its URL group, `url` named `endpointName`:
    /// `destination` is `url`, `urlGroup` is kept (it tells the copies' deduplication ids apart).
    public func copy(to url: String, endpointName: String?) -> PublishedMessage {
        var copy = self
        copy.destination = url
        copy.endpointName = endpointName
        return copy
    }

    /// A single publish: `target` is the request's path and query exactly as received
    /// (`/v2/publish/https://x.test//a?b=1`), the destination (a URL, or a URL group's name)
    /// everything after the prefix.
    public init(publishTarget target: String, headers: HeaderFields, body: [UInt8]) throws(ProtocolError) {
        try self.init(destination: Destination.fromTarget(target, prefix: Self.publishPathPrefix), headers: headers, body: body)
    }

    /// The items of a `POST /v2/batch` body `[{destination, headers, body?, queue?}]`; errors are
    /// located as `batch item <index>` (0-based, the position in the JSON array).
    public static func batch(jsonBytes: [UInt8]) throws(ProtocolError) -> [PublishedMessage] {
        guard case .list(let items) = try WireJSON.parse(jsonBytes, what: "the batch body") else {
            throw ProtocolError("the batch body must be a JSON array")
        }
        var messages: [PublishedMessage] = []
        for (index, item) in items.enumerated() {
            messages.append(try ProtocolError.locating("batch item \(index)") { () throws(ProtocolError) in try batchItem(item) })
        }
        return messages
    }

    private static func batchItem(_ item: Value) throws(ProtocolError) -> PublishedMessage {
        let map = try WireJSON.object(item, what: "the item")
        guard let destination = try map.string("destination") else { throw ProtocolError("'destination' is missing") }
        var headers = HeaderFields()
        if let members = map[.string("headers")], members != .null {
            for (key, value) in try WireJSON.object(members, what: "'headers'").entries {
                guard case .string(let name) = key else { throw ProtocolError("'headers' has a non-string name") }
                guard case .string(let text) = value else { throw ProtocolError("header '\(name)' must have a string value") }
                try HeaderFieldSyntax.check(name: name, value: text)
                headers.append(name, text)
            }
        }
        let body = try map.string("body").map { Array($0.utf8) }
        return try PublishedMessage(destination: destination, headers: headers, body: body, queue: try map.string("queue"))
    }
}
