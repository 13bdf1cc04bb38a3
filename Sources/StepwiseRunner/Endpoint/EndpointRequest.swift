import StepwiseProtocol

/// One request to a workflow's endpoint (`POST /workflows/{name}`), as the HTTP server received
/// it: a first invocation, a delivery of the run's log, a call's callback or a failure callback.
public struct EndpointRequest: Sendable {
    /// The workflow named by the path.
    public var workflow: String
    /// The workflow's public URL, which QStash delivers to and signatures name.
    public var url: String
    /// The request's headers, looked up in any case.
    public var headers: HeaderFields
    /// The exact body bytes (signatures cover them).
    public var body: [UInt8]

    /// A request for `workflow` at `url`.
    public init(workflow: String, url: String, headers: HeaderFields, body: [UInt8]) {
        self.workflow = workflow
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The run id a delivery names (`Upstash-Workflow-RunId`).
    var runId: String? { headers["upstash-workflow-runid"].flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether a header is `true` (any case).
    func flag(_ name: String) -> Bool { headers[name]?.lowercased() == "true" }
}
