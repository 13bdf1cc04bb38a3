import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The endpoint's answer, in the statuses QStash understands (§4.7): 200 when the delivery did
/// its work, 429 with `Retry-After` for a step to try again later, 489 with
/// `Upstash-NonRetryable-Error` for what can never succeed, 500 for a failure worth retrying.
public struct EndpointReply: Sendable {
    /// The HTTP status.
    public var status: Int
    /// Headers of the answer, `Upstash-Workflow-Sdk-Version` first.
    public var headers: [(name: String, value: String)]
    /// A JSON document.
    public var body: Value

    /// An answer with the given parts; every answer names the protocol version, as the SDKs do.
    public init(status: Int, body: Value, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = [("Upstash-Workflow-Sdk-Version", "1")] + headers
    }

    /// 200 `{workflowRunId, finishCondition}`.
    static func done(_ runId: String, _ condition: String = "success") -> EndpointReply {
        EndpointReply(status: 200, body: ["workflowRunId": .string(runId), "finishCondition": .string(condition)])
    }

    /// An error answer `{error, message}` with `status`.
    static func error(_ status: Int, type: String, _ message: String, headers: [(name: String, value: String)] = []) -> EndpointReply {
        EndpointReply(status: status, body: ["error": .string(type), "message": .string(message)], headers: headers)
    }

    /// 489: the delivery can never succeed; QStash fails the run at once (DLQ, failure callback).
    public static func nonRetryable(type: String, _ message: String) -> EndpointReply {
        error(489, type: type, message, headers: [("Upstash-NonRetryable-Error", "true")])
    }

    /// 489 for a run that failed: the error's fields, which a failure callback reads back.
    static func failed(_ error: StepError) -> EndpointReply {
        EndpointReply(status: 489, body: EndpointErrorBody(error).json, headers: [("Upstash-NonRetryable-Error", "true")])
    }

    /// 429: try the same delivery again after `delay`, given as HTTP's whole seconds (rounded
    /// up), the one form every QStash reads.
    static func retryAfter(_ delay: WireDuration, type: String, _ message: String) -> EndpointReply {
        let seconds = delay.milliseconds / 1000 + (delay.milliseconds % 1000 > 0 ? 1 : 0)
        return error(429, type: type, message, headers: [("Retry-After", String(max(seconds, 0)))])
    }
}
