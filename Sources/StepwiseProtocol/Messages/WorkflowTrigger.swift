/// A run started through Upstash Workflow's REST API (`POST /v2/trigger/{workflowUrl}`, `POST
/// /v2/batch/trigger`; docs `workflow/openapi.yaml`), without an SDK publishing it: written as the
/// trigger message the JS SDK's `client.trigger` publishes, so one engine path starts both. The
/// request's options (`Upstash-Retries`, `-Retry-Delay`, `-Delay`, `-Not-Before`, `-Label`,
/// `-Flow-Control-*`, `-Failure-Callback*`, `-Forward-*`) are the run's (`WF_TriggerOnConfig`):
/// with no failure callback, a failure calls the workflow URL's failure function.
public enum WorkflowTrigger {
    /// The headers the engine sets, which a request may not.
    private static let reserved = [
        "upstash-workflow-init", "upstash-workflow-runid", "upstash-workflow-url", "upstash-feature-set", "upstash-workflow-calltype",
        "upstash-forward-upstash-workflow-sdk-version",
    ]

    /// The trigger of run `runId` at `workflowUrl` with `body` as its initial payload and the
    /// options of `headers`; errors name what is wrong.
    public static func message(workflowUrl: String, runId: String, headers: HeaderFields, body: [UInt8]) throws(ProtocolError) -> PublishedMessage {
        var fields = HeaderFields(headers.fields.filter { field in !reserved.contains(field.name.lowercased()) })
        fields.append("Upstash-Workflow-Init", "true")
        fields.append("Upstash-Workflow-RunId", runId)
        fields.append("Upstash-Workflow-Url", workflowUrl)
        // The SDK takes a delivery that says its version for a run's, not for a new trigger.
        fields.append("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1")
        fields.append("Upstash-Feature-Set", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig")
        let message = try PublishedMessage(destination: workflowUrl, headers: fields, body: body)
        guard !message.isToURLGroup else { throw ProtocolError("'\(workflowUrl)' is no URL: a workflow is triggered at its endpoint's http(s) URL") }
        return message
    }

    /// The path prefix of a single trigger.
    public static let pathPrefix = "/v2/trigger/"

    /// The workflow URL of a `POST /v2/trigger/{workflowUrl}` request target.
    public static func workflowURL(target: String) throws(ProtocolError) -> String {
        try Destination.fromTarget(target, prefix: pathPrefix)
    }

    /// The items of a `POST /v2/batch/trigger` body `[{destination, body?, headers?}]`: each
    /// workflow URL with its options and payload; errors are located as `batch item <index>`.
    public static func batch(jsonBytes: [UInt8]) throws(ProtocolError) -> [(workflowUrl: String, headers: HeaderFields, body: [UInt8])] {
        try PublishedMessage.batch(jsonBytes: jsonBytes).map { ($0.destination, $0.headers, $0.body ?? []) }
    }
}
