import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The message that tells a YAML workflow's `failure_url` a run failed for good: Upstash's
/// failure-callback payload (§7.2), so a receiver written for Upstash works unchanged. It is a
/// plain queued message: signed, retried with QStash's backoff, independent of the ended run.
enum FailureNotice {
    /// The notice of `run`, which failed with `error`, posted to `url` at `now`.
    static func message(for run: RunRecord, error: StepError, url: String, now: TimestampValue) -> QueuedMessage {
        let body = FailureCallbackBody(
            status: Int64(error.status ?? 500), header: [], body: EndpointErrorBody(error).jsonBytes, retried: 0, maxRetries: 0,
            dlqId: DeadLetter.id(ofRun: run.id), sourceMessageId: run.id, url: "/workflows/" + run.workflow, sourceBody: Array(run.input.jsonText().utf8),
            workflowRunId: run.id, workflowCreatedAt: run.createdAt.millisecondsSinceEpoch,
            createdAt: now.millisecondsSinceEpoch, callerIP: run.callerIp)
        return QueuedMessage(
            role: .plain, runId: nil, destination: url,
            headers: [
                ForwardedHeader("Upstash-Workflow-Is-Failure", "true"), ForwardedHeader("Upstash-Workflow-Failure-Callback", "true"),
                ForwardedHeader("Upstash-Workflow-RunId", run.id),
            ],
            contentType: "application/json", body: body.jsonBytes, runIdHeader: run.id, dueAt: now)
    }
}
