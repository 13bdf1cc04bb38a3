/// A run started through Upstash Workflow's REST API (`POST /v2/trigger/{workflowUrl}`, `POST
/// /v2/batch/trigger`; docs `workflow/openapi.yaml`), without an SDK publishing it: written as the
/// trigger message the JS SDK's `client.trigger` publishes, so one engine path starts both. The
/// request's options (`Upstash-Retries`, `-Retry-Delay`, `-Delay`, `-Not-Before`, `-Label`,
/// `-Flow-Control-*`, `-Failure-Callback*`, `-Forward-*`) are the run's (`WF_TriggerOnConfig`):
/// with no failure callback, a failure calls the workflow URL's failure function.
public enum WorkflowTrigger {
    /// Prefixes of the headers the engine sets or the SDKs use between themselves (a call's
    /// callback, a failure callback's run, an invoke), which a trigger may not give.
    private static let reservedPrefixes = ["upstash-workflow-", "upstash-forward-upstash-workflow-", "upstash-failure-callback-workflow-", "upstash-feature-set"]
    /// Options of a publish that a trigger does not take: a run's deliveries are POSTs in no
    /// queue, and a run id, not a message, is what a trigger deduplicates on.
    private static let refused = ["upstash-method", "upstash-queue-name", "upstash-deduplication-id", "upstash-content-based-deduplication"]

    /// The trigger of run `runId` at `workflowUrl` with `body` as its initial payload and the
    /// options of `headers` (its `Upstash-Workflow-RunId`, the run id, is taken apart); errors
    /// name what is wrong.
    public static func message(workflowUrl: String, runId: String, headers: HeaderFields, body: [UInt8]) throws(ProtocolError) -> PublishedMessage {
        let unknownSDK = try OptionHeaders(headers: headers, prefix: "upstash-").flag("workflow-unknown-sdk") ?? false
        var fields = HeaderFields(headers.fields.filter {
            !$0.name.equalsIgnoringASCIICase("Upstash-Workflow-RunId") && !$0.name.equalsIgnoringASCIICase(unknownSDKHeader)
        })
        if let field = fields.fields.first(where: { field in
            let name = field.name.lowercased()
            return refused.contains(name) || reservedPrefixes.contains { name.hasPrefix($0) }
        }) {
            throw ProtocolError("\(field.name) cannot be given to a trigger: the engine sets what a run's deliveries carry")
        }
        // A failure callback keeps to the trigger's retries, as Upstash documents.
        if fields["Upstash-Failure-Callback"] != nil, fields["Upstash-Failure-Callback-Retries"] == nil, let retries = fields["Upstash-Retries"] {
            fields.append("Upstash-Failure-Callback-Retries", retries)
        }
        fields.append("Upstash-Workflow-Init", "true")
        fields.append("Upstash-Workflow-RunId", runId)
        fields.append("Upstash-Workflow-Url", workflowUrl)
        // The SDK takes a delivery that says its version for a run's, not for a new trigger.
        fields.append("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1")
        fields.append("Upstash-Feature-Set", "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig")
        if unknownSDK { fields.append("Upstash-Forward-" + unknownSDKHeader, "true") }
        var message = try PublishedMessage(destination: workflowUrl, headers: fields, body: body)
        message.isRESTTrigger = true
        guard !message.isToURLGroup else { throw ProtocolError("'\(workflowUrl)' is no URL: a workflow is triggered at its endpoint's http(s) URL") }
        return message
    }

    /// `Upstash-Workflow-Unknown-Sdk: true` on a trigger asks that the run's first delivery say so:
    /// the JS SDK then triggers the run again as its own (workflow-js `examples/ci`
    /// `qstash-trigger-fetch`). Only that delivery carries it: `RunDefaults` keeps it as
    /// `awaitsSDKTrigger` instead of a header.
    public static let unknownSDKHeader = "Upstash-Workflow-Unknown-Sdk"

    /// The path prefix of a single trigger.
    public static let pathPrefix = "/v2/trigger/"

    /// The workflow URL of a `POST /v2/trigger/{workflowUrl}` request target.
    public static func workflowURL(target: String) throws(ProtocolError) -> String {
        try Destination.fromTarget(target, prefix: pathPrefix)
    }

    /// The items of a `POST /v2/batch/trigger` body `[{destination, body?, headers?}]`: each
    /// workflow URL with its options and payload; errors are located as `batch item <index>`.
    public static func batch(jsonBytes: [UInt8]) throws(ProtocolError) -> [(workflowUrl: String, headers: HeaderFields, body: [UInt8])] {
        let items = try PublishedMessage.batch(jsonBytes: jsonBytes)
        if let index = items.firstIndex(where: { $0.queue != nil }) {
            throw ProtocolError("batch item \(index): a trigger takes no queue; a run's deliveries go in no queue")
        }
        return items.map { ($0.destination, $0.headers, $0.body ?? []) }
    }
}
