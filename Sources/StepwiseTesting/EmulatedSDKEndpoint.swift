import Foundation
import StepwiseExpressions
import StepwiseProtocol

/// A workflow endpoint that behaves like the Upstash SDKs (§4.5 of the protocol notes), for
/// tests that drive Stepwise's QStash API over real HTTP: on each delivery it replays the steps
/// in the body, publishes the result of the next of `steps` with `POST /v2/batch`, or calls
/// `DELETE /v2/workflows/runs/{id}?cancel=false` when all are done, then answers 200.
public struct EmulatedSDKEndpoint: Sendable {
    public let stepwise: RunningServer
    /// The workflow URL (the counting server's path).
    public let url: String
    /// The names of the `Run` steps, in order.
    public let steps: [String]
    /// Headers every message of the run carries, as the Python SDK sends its failure-callback and
    /// retry options with each one (the "classic dialect").
    public var messageHeaders: [(String, String)] = []
    /// Whether it behaves like the JS SDK 1.x: its messages name `WF_TriggerOnConfig` with
    /// `LazyFetch`, and it reads an empty delivery's log with `GET /v2/workflows/runs/{id}`, cut
    /// at the entry `Upstash-Message-Id` names (workflow-js `getSteps`). Else like the Python SDK.
    public var fetchesLogLazily = false

    /// An endpoint at `url` of `stepwise`'s runs that runs `steps`.
    public init(stepwise: RunningServer, url: String, steps: [String]) {
        self.stepwise = stepwise
        self.url = url
        self.steps = steps
    }

    /// The trigger of a run with `payload` as `POST /v2/batch` would carry it.
    public func trigger(runId: String, payload: String, extraHeaders: [(String, String)] = []) async throws -> HTTPAnswer {
        let headers: [(String, String)] = [
            ("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-Url", url),
            ("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1"), ("Upstash-Feature-Set", featureSet),
            ("Content-Type", "application/json"),
        ]
        return try await batch([(url, headers + messageHeaders + extraHeaders, payload)])
    }

    /// What its messages name in `Upstash-Feature-Set`.
    public var featureSet: String {
        fetchesLogLazily ? "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig" : "LazyFetch,InitialBody,WF_DetectTrigger"
    }

    /// `POST /v2/batch` with one item per `(destination, headers, body)`.
    public func batch(_ items: [(destination: String, headers: [(String, String)], body: String?)]) async throws -> HTTPAnswer {
        let json = Value.list(items.map { item in
            var map = ValueMap([
                ("destination", .string(item.destination)),
                ("headers", .map(ValueMap(item.headers.map { ($0.0, Value.string($0.1)) }))),
            ])
            if let body = item.body { map[.string("body")] = .string(body) }
            return .map(map)
        })
        return try await send(.POST, stepwise.url("/v2/batch"), body: json.jsonText())
    }

    /// The step JSON of step `index` (0-based) as the SDKs publish a `Run` result.
    public func stepJSON(_ index: Int) -> String {
        #"{"stepId":\#(index + 1),"stepName":"\#(steps[index])","stepType":"Run","out":"\"\#(steps[index])-done\"","concurrent":1}"#
    }

    /// The headers of a workflow-bound step publish for run `runId`.
    public func stepHeaders(runId: String) -> [(String, String)] {
        [
            ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-Url", url),
            ("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1"), ("Upstash-Feature-Set", featureSet), ("Content-Type", "application/json"),
        ] + messageHeaders
    }

    /// What the SDKs answer a delivery they took (workflow-js `createResponseData`): 200 with
    /// `Upstash-Workflow-Sdk-Version`, which tells QStash that a workflow endpoint answered
    /// (`WF_DetectTrigger`).
    public static func acknowledgement(_ body: String = "{}") -> ScriptedResponse {
        ScriptedResponse(body: body, headers: [("Upstash-Workflow-Sdk-Version", "1")])
    }

    /// What the SDKs answer a delivery whose step threw `WorkflowNonRetryableError` with
    /// `message`: 489 with `Upstash-NonRetryable-Error`, which fails the run at once.
    public static func nonRetryable(_ message: String) -> ScriptedResponse {
        ScriptedResponse(
            status: 489, body: #"{"error":"WorkflowNonRetryableError","message":"\#(message)"}"#,
            headers: [("Upstash-NonRetryable-Error", "true"), ("Upstash-Workflow-Sdk-Version", "1")])
    }

    /// The SDK's handling of one delivery.
    public func answer(_ request: ReceivedRequest) async -> ScriptedResponse {
        guard let runId = request.header("Upstash-Workflow-RunId"), request.header("Upstash-Workflow-Sdk-Version") == "1",
            let log = await log(of: request, runId: runId), !log.steps.isEmpty, let done = try? log.stepEntries().count
        else { return .json(#"{"error":"Error","message":"not a workflow delivery"}"#, status: 500) }
        do {
            let answer: HTTPAnswer
            if done < steps.count {
                answer = try await batch([(url, stepHeaders(runId: runId), stepJSON(done))])
            } else {
                answer = try await send(.DELETE, stepwise.url("/v2/workflows/runs/\(runId)?cancel=false"))
            }
            guard answer.status == 200 else { return .json(#"{"error":"QStashError","message":"\#(answer.status)"}"#, status: 500) }
            return Self.acknowledgement(#"{"workflowRunId":"\#(runId)","finishCondition":"success"}"#)
        } catch {
            return .json(#"{"error":"Error","message":"publish failed"}"#, status: 500)
        }
    }

    /// The log a delivery stands for: its body, or when it came empty to an endpoint that fetches
    /// the log, the run's log as workflow-js `getSteps` cuts it (a one-entry log as it is, else
    /// through the delivered entry, else empty); `nil` when neither can be read.
    private func log(of request: ReceivedRequest, runId: String) async -> RawStepArray? {
        guard request.body.isEmpty, fetchesLogLazily else { return try? RawStepArray(jsonBytes: Array(request.body.utf8)) }
        guard let answer = try? await send(.GET, stepwise.url("/v2/workflows/runs/\(runId)")), answer.status == 200,
            let steps = try? RawStepArray(jsonBytes: Array(answer.body.utf8)).steps
        else { return nil }
        guard steps.count > 1 else { return RawStepArray(steps) }
        guard let end = steps.firstIndex(where: { $0.messageId == request.header("Upstash-Message-Id") }) else { return RawStepArray([]) }
        return RawStepArray(Array(steps[...end]))
    }
}
