import StepwiseExpressions

/// A destination's answer to a delivery, read for what matters to the engine: the verdict, and
/// for workflow endpoints the informational `{workflowRunId, finishCondition}` body and the
/// headers the SDKs set (workflow-js `src/serve/options.ts` `createResponseData`).
public struct EndpointAnswer: Sendable {
    public var status: Int
    public var verdict: DeliveryVerdict
    /// `workflowRunId` of a JSON answer body, when there is one.
    public var workflowRunId: String?
    /// `finishCondition`: `success`, `fromCallback`, `duplicate-step`, `workflow-already-ended`, …
    public var finishCondition: String?
    /// `Upstash-Workflow-Failure-Callback-Notfound: true`: no failure function exists.
    public var failureFunctionMissing: Bool
    /// `Upstash-Workflow-Sdk-Version` on the answer: the destination is a workflow endpoint (the
    /// `WF_DetectTrigger` check).
    public var isWorkflowEndpoint: Bool

    /// Reads an answer. The body is only looked at for JSON members; anything else is ignored
    /// because QStash never reads step results from answers.
    public init(status: Int, headers: HeaderFields, body: [UInt8]) {
        self.status = status
        failureFunctionMissing = headers["upstash-workflow-failure-callback-notfound"]?.lowercased() == "true"
        isWorkflowEndpoint = headers["upstash-workflow-sdk-version"] != nil
        let object = try? WireJSON.object(try WireJSON.parse(body, what: "the answer"), what: "the answer")
        workflowRunId = (try? object?.string("workflowRunId")) ?? nil
        finishCondition = (try? object?.string("finishCondition")) ?? nil
        verdict = Self.verdict(status: status, headers: headers)
    }

    private static func verdict(status: Int, headers: HeaderFields) -> DeliveryVerdict {
        if (200..<300).contains(status) { return .delivered }
        if status == 489, headers["upstash-nonretryable-error"]?.lowercased() == "true" { return .failWithoutRetry }
        if let wait = headers["retry-after"].flatMap(retryAfter) { return .retryAfter(min(wait, DefaultBackoff.maximum)) }
        return .retry
    }

    /// `Retry-After` as whole seconds or a duration (`1m30s`); `nil` for anything else, in which
    /// case the normal backoff applies.
    static func retryAfter(_ text: String) -> WireDuration? {
        let trimmed = text.trimmingSpaces()
        return try? WireDuration(parsing: trimmed, bareSeconds: true)
    }
}
