import StepwiseExpressions

/// The JSON body of a callback delivery (§6.2): what the third party of a `context.call` answered
/// on one attempt, with the source message's details. workflow-js `handleThirdPartyCallResult`
/// (`src/workflow-requests.ts`) reads `status`, `body`, `header`, `retried`, `maxRetries`.
public struct CallbackBody: Sendable, Equatable {
    public var status: Int64
    public var header: [(name: String, values: [String])]
    /// The response body bytes (sent base64).
    public var body: [UInt8]
    /// Attempts before this one; left out on the first attempt, as QStash does.
    public var retried: Int?
    public var maxRetries: Int
    public var sourceMessageId: String
    /// The URL group the message was published to, and the name of its endpoint there.
    public var topicName: String?
    public var endpointName: String?
    /// The destination's URL (a call's third party) and the method used.
    public var url: String
    public var method: String
    public var sourceHeader: [(name: String, values: [String])]
    /// The call's request body bytes (sent base64).
    public var sourceBody: [UInt8]
    /// Unix milliseconds.
    public var notBefore: Int64?
    public var createdAt: Int64?
    /// The schedule that published the message.
    public var scheduleId: String?
    public var callerIP: String?

    /// A body with the given parts.
    public init(
        status: Int64, header: [(name: String, values: [String])], body: [UInt8], retried: Int?, maxRetries: Int,
        sourceMessageId: String, topicName: String? = nil, endpointName: String? = nil, url: String, method: String,
        sourceHeader: [(name: String, values: [String])] = [], sourceBody: [UInt8] = [], notBefore: Int64? = nil, createdAt: Int64? = nil,
        scheduleId: String? = nil, callerIP: String? = nil
    ) {
        self.status = status
        self.header = header
        self.body = body
        self.retried = retried
        self.maxRetries = maxRetries
        self.sourceMessageId = sourceMessageId
        self.topicName = topicName
        self.endpointName = endpointName
        self.url = url
        self.method = method
        self.sourceHeader = sourceHeader
        self.sourceBody = sourceBody
        self.notBefore = notBefore
        self.createdAt = createdAt
        self.scheduleId = scheduleId
        self.callerIP = callerIP
    }

    /// The JSON object, members in the order of the docs' example.
    public var json: Value {
        var map = ValueMap([("status", .int(status)), ("header", HeaderLists.json(header)), ("body", .string(WireJSON.base64(body)))])
        map.setIfPresent("retried", retried.map { .int(Int64($0)) })
        map[.string("maxRetries")] = .int(Int64(maxRetries))
        map[.string("sourceMessageId")] = .string(sourceMessageId)
        map.setIfPresent("topicName", topicName.map(Value.string))
        map.setIfPresent("endpointName", endpointName.map(Value.string))
        for (key, value) in [
            ("url", Value.string(url)), ("method", .string(method)), ("sourceHeader", HeaderLists.json(sourceHeader)),
            ("sourceBody", .string(WireJSON.base64(sourceBody))),
        ] {
            map[.string(key)] = value
        }
        map.setIfPresent("notBefore", notBefore.map(Value.int))
        map.setIfPresent("createdAt", createdAt.map(Value.int))
        map.setIfPresent("scheduleId", scheduleId.map(Value.string))
        map.setIfPresent("callerIP", callerIP.map(Value.string))
        return .map(map)
    }

    /// The body as JSON bytes.
    public var jsonBytes: [UInt8] { WireJSON.bytes(json) }

    /// Reads a callback delivery's body, as the SDKs do; `status` is required, the other members
    /// default to empty when absent.
    public init(jsonBytes: [UInt8]) throws(ProtocolError) {
        let map = try WireJSON.object(try WireJSON.parse(jsonBytes, what: "the callback body"), what: "the callback body")
        guard let status = try map.integer("status") else { throw ProtocolError("'status' of the callback body is missing") }
        self.init(
            status: status, header: try HeaderLists.read(map[.string("header")], what: "'header'") ?? [],
            body: try WireJSON.unbase64(try map.string("body") ?? "", what: "'body'"), retried: try map.integer("retried").map { Int($0) },
            maxRetries: Int(try map.integer("maxRetries") ?? 0), sourceMessageId: try map.string("sourceMessageId") ?? "",
            topicName: try map.string("topicName"), endpointName: try map.string("endpointName"),
            url: try map.string("url") ?? "", method: try map.string("method") ?? "GET",
            sourceHeader: try HeaderLists.read(map[.string("sourceHeader")], what: "'sourceHeader'") ?? [],
            sourceBody: try WireJSON.unbase64(try map.string("sourceBody") ?? "", what: "'sourceBody'"),
            scheduleId: try map.string("scheduleId"))
    }

    /// Whether the SDK will ignore this attempt and wait for QStash's next one ("call-will-retry"):
    /// a non-2xx status while retries remain.
    public var sdkWaitsForRetry: Bool {
        !(200..<300).contains(status) && maxRetries != 0 && retried != maxRetries
    }

    /// The `Call` step output the SDK publishes for this response (body decoded as UTF-8 text).
    public var callResponse: CallResponse {
        CallResponse(status: status, body: String(decoding: body, as: UTF8.self), header: header)
    }

    public static func == (lhs: CallbackBody, rhs: CallbackBody) -> Bool { lhs.json == rhs.json }
}
