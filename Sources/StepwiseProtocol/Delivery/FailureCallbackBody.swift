import StepwiseExpressions

/// The JSON body of a failure-callback delivery (§7.2). Python's `upstash-workflow` indexes
/// `status`, `header`, `body`, `url`, `sourceBody` and `workflowRunId` directly, so they are
/// always written; `sourceBody` is the run's initial payload, which becomes `requestPayload`.
public struct FailureCallbackBody: Sendable, Equatable {
    /// The failing delivery's last answer.
    public var status: Int64
    public var header: [(name: String, values: [String])]
    /// Its body bytes (sent base64); the SDK reads `message` and `stack` from it.
    public var body: [UInt8]
    public var retried: Int
    public var maxRetries: Int
    public var dlqId: String?
    public var sourceMessageId: String
    /// The URL group the failed message was published to, and the group's endpoint it went to.
    public var topicName: String?
    public var endpointName: String?
    /// The workflow URL and the method used.
    public var url: String
    public var method: String
    public var sourceHeader: [(name: String, values: [String])]
    /// The run's initial payload bytes (sent base64).
    public var sourceBody: [UInt8]
    public var workflowRunId: String
    /// Unix milliseconds.
    public var workflowCreatedAt: Int64
    public var createdAt: Int64?
    /// The schedule whose tick published the failed message.
    public var scheduleId: String?
    public var callerIP: String?

    /// A body with the given parts.
    public init(
        status: Int64, header: [(name: String, values: [String])], body: [UInt8], retried: Int, maxRetries: Int,
        dlqId: String?, sourceMessageId: String, url: String, method: String = "POST",
        sourceHeader: [(name: String, values: [String])] = [], sourceBody: [UInt8], workflowRunId: String,
        workflowCreatedAt: Int64, createdAt: Int64? = nil, callerIP: String? = nil, topicName: String? = nil, endpointName: String? = nil,
        scheduleId: String? = nil
    ) {
        self.status = status
        self.header = header
        self.body = body
        self.retried = retried
        self.maxRetries = maxRetries
        self.dlqId = dlqId
        self.sourceMessageId = sourceMessageId
        self.url = url
        self.method = method
        self.sourceHeader = sourceHeader
        self.sourceBody = sourceBody
        self.workflowRunId = workflowRunId
        self.workflowCreatedAt = workflowCreatedAt
        self.createdAt = createdAt
        self.callerIP = callerIP
        self.topicName = topicName
        self.endpointName = endpointName
        self.scheduleId = scheduleId
    }

    /// The JSON object, members in the order of the protocol notes' example.
    public var json: Value {
        var map = ValueMap([
            ("status", .int(status)), ("header", HeaderLists.json(header)), ("body", .string(WireJSON.base64(body))),
            ("retried", .int(Int64(retried))), ("maxRetries", .int(Int64(maxRetries))),
        ])
        map.setIfPresent("dlqId", dlqId.map(Value.string))
        map[.string("sourceMessageId")] = .string(sourceMessageId)
        map.setIfPresent("topicName", topicName.map(Value.string))
        map.setIfPresent("endpointName", endpointName.map(Value.string))
        for (key, value) in [
            ("url", Value.string(url)), ("method", .string(method)),
            ("sourceHeader", HeaderLists.json(sourceHeader)), ("sourceBody", .string(WireJSON.base64(sourceBody))),
            ("workflowRunId", .string(workflowRunId)), ("workflowCreatedAt", .int(workflowCreatedAt)),
        ] {
            map[.string(key)] = value
        }
        map.setIfPresent("createdAt", createdAt.map(Value.int))
        map.setIfPresent("scheduleId", scheduleId.map(Value.string))
        map.setIfPresent("callerIP", callerIP.map(Value.string))
        return .map(map)
    }

    /// The body as JSON bytes.
    public var jsonBytes: [UInt8] { WireJSON.bytes(json) }

    /// Reads a failure callback's body as the SDKs do: `status`, `body`, `sourceBody` and
    /// `workflowRunId` are required.
    public init(jsonBytes: [UInt8]) throws(ProtocolError) {
        let map = try WireJSON.object(try WireJSON.parse(jsonBytes, what: "the failure callback body"), what: "the failure callback body")
        guard let status = try map.integer("status") else { throw ProtocolError("'status' of the failure callback body is missing") }
        guard let runId = try map.string("workflowRunId") else { throw ProtocolError("'workflowRunId' of the failure callback body is missing") }
        self.init(
            status: status, header: try HeaderLists.read(map[.string("header")], what: "'header'") ?? [],
            body: try WireJSON.unbase64(try map.string("body") ?? "", what: "'body'"), retried: Int(try map.integer("retried") ?? 0),
            maxRetries: Int(try map.integer("maxRetries") ?? 0), dlqId: try map.string("dlqId"),
            sourceMessageId: try map.string("sourceMessageId") ?? "", url: try map.string("url") ?? "",
            sourceBody: try WireJSON.unbase64(try map.string("sourceBody") ?? "", what: "'sourceBody'"), workflowRunId: runId,
            workflowCreatedAt: try map.integer("workflowCreatedAt") ?? 0, topicName: try map.string("topicName"),
            endpointName: try map.string("endpointName"), scheduleId: try map.string("scheduleId"))
    }

    public static func == (lhs: FailureCallbackBody, rhs: FailureCallbackBody) -> Bool { lhs.json == rhs.json }
}
