import StepwiseExpressions

/// The body of the trigger of an invoked run (`Upstash-Workflow-Invoke: true`, §6.5 of the
/// protocol notes; workflow-js `LazyInvokeStep`): the child's initial payload, and how to deliver
/// the parent's `Invoke` result when the child ends.
public struct InvokeRequest: Sendable, Equatable {
    /// The child's initial payload, as text.
    public var body: String
    /// The parent's workflow headers, one value per name, for the delivery of the result.
    public var headers: [(name: String, value: String)]
    /// The parent run.
    public var workflowRunId: String
    /// Unix milliseconds.
    public var workflowRunCreatedAt: Int64?
    /// The parent's workflow URL.
    public var workflowUrl: String
    /// The parent's pending `Invoke` step.
    public var step: StepJSON

    /// A request with the given parts.
    public init(
        body: String, headers: [(name: String, value: String)], workflowRunId: String, workflowRunCreatedAt: Int64?, workflowUrl: String,
        step: StepJSON
    ) {
        self.body = body
        self.headers = headers
        self.workflowRunId = workflowRunId
        self.workflowRunCreatedAt = workflowRunCreatedAt
        self.workflowUrl = workflowUrl
        self.step = step
    }

    /// The JSON bytes of the request.
    public var jsonBytes: [UInt8] {
        var map = ValueMap([
            ("body", .string(body)), ("headers", HeaderLists.json(headers.map { ($0.name, [$0.value]) })),
            ("workflowRunId", .string(workflowRunId)),
        ])
        map.setIfPresent("workflowRunCreatedAt", workflowRunCreatedAt.map(Value.int))
        map[.string("workflowUrl")] = .string(workflowUrl)
        map[.string("step")] = .map(step.object)
        return WireJSON.bytes(.map(map))
    }

    /// Reads an invoke trigger's body; errors name the member that is wrong.
    public init(jsonBytes: [UInt8]) throws(ProtocolError) {
        let map = try WireJSON.object(try WireJSON.parse(jsonBytes, what: "the invoke body"), what: "the invoke body")
        guard let runId = try map.string("workflowRunId") else { throw ProtocolError("'workflowRunId' of the invoke body is missing") }
        guard let url = try map.string("workflowUrl") else { throw ProtocolError("'workflowUrl' of the invoke body is missing") }
        try ProtocolError.locating("'workflowUrl'") { () throws(ProtocolError) in try Destination.validate(url) }
        guard let stepValue = map[.string("step")] else { throw ProtocolError("'step' of the invoke body is missing") }
        body = try map.string("body") ?? ""
        headers = try HeaderLists.sendable(map[.string("headers")], what: "'headers'")
        workflowRunId = runId
        workflowRunCreatedAt = try map.integer("workflowRunCreatedAt")
        workflowUrl = url
        step = try ProtocolError.locating("'step'") { () throws(ProtocolError) in try StepJSON(object: try WireJSON.object(stepValue, what: "the step")) }
    }

    /// Requests are equal when they encode to the same bytes.
    public static func == (lhs: InvokeRequest, rhs: InvokeRequest) -> Bool {
        lhs.jsonBytes == rhs.jsonBytes
    }
}
