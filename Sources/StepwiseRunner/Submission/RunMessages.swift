import Crypto
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The messages the runner publishes for one run (§4.6, §6.2, §6.3), in the classic dialect:
/// every message carries the run's options itself, so the runner works behind any QStash. Each
/// workflow-bound message forwards the pinned version (`Stepwise-Workflow-Version`), so every
/// delivery names the definition to replay.
struct RunMessages: Sendable {
    /// The delivery header naming the definition's hash.
    static let versionHeader = "Stepwise-Workflow-Version"
    /// The callback headers of a `call`: which try it was, and how its response is judged.
    static let callAttemptHeader = "Stepwise-Call-Attempt"
    static let callExpectHeader = "Stepwise-Call-Expect"
    static let callResponseHeader = "Stepwise-Call-Response"
    static let callTimeoutHeader = "Stepwise-Call-Timeout"
    static let callContentTypeHeader = "Stepwise-Call-Content-Type"
    /// The delivery headers carrying the run's flow control, evaluated once when it started (its
    /// keys may use the input, which a callback delivery does not carry).
    static let flowKeyHeader = "Stepwise-Flow-Control-Key"
    static let flowValueHeader = "Stepwise-Flow-Control-Value"

    let runId: String
    let workflowURL: String
    let version: String
    /// `Upstash-Retries` of workflow-bound messages: room for the longest retry policy of the
    /// workflow's steps (the runner answers 489 itself when a step's policy is exhausted).
    let retries: Int
    /// Where QStash calls when the run fails for good (§7.2): the workflow URL when it has
    /// `on_failure` (the runner runs it, then notifies its `failure_url`), else its `failure_url`.
    let failureCallback: String?
    /// The workflow's `concurrency`/`rate_limit` as QStash flow control: every workflow-bound
    /// message is admitted under it.
    let flowControl: FlowControl?

    /// The headers every workflow-bound message carries.
    var workflowHeaders: HeaderFields {
        var headers = HeaderFields([
            ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-Url", workflowURL),
            ("Upstash-Feature-Set", "InitialBody"), ("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1"),
            ("Upstash-Forward-" + Self.versionHeader, version), ("Upstash-Retries", String(retries)),
            ("Content-Type", "application/json"),
        ])
        for (name, value) in flowControlHeaders { headers.append(name, value) }
        guard let failureCallback else { return headers }
        let failure = "Upstash-Failure-Callback"
        for (name, value) in [
            (failure, failureCallback), (failure + "-Forward-Upstash-Workflow-Is-Failure", "true"),
            (failure + "-Forward-Upstash-Workflow-Failure-Callback", "true"), (failure + "-Forward-" + Self.versionHeader, version),
            (failure + "-Workflow-RunId", runId), (failure + "-Workflow-Init", "false"), (failure + "-Workflow-Url", workflowURL),
            (failure + "-Workflow-CallType", "failureCall"), (failure + "-Feature-Set", "InitialBody"), (failure + "-Retries", String(retries)),
        ] {
            headers.append(name, value)
        }
        return headers
    }

    /// `Upstash-Flow-Control-*` for QStash, and the same forwarded for the runner's later deliveries.
    private var flowControlHeaders: [(String, String)] {
        guard let flowControl else { return [] }
        return [
            ("Upstash-Flow-Control-Key", flowControl.key), ("Upstash-Flow-Control-Value", flowControl.value),
        ] + forwardedFlowControl(prefix: "Upstash-Forward-")
    }

    /// The run's flow control as forwarded headers behind `prefix`.
    private func forwardedFlowControl(prefix: String) -> [(String, String)] {
        guard let flowControl else { return [] }
        return [(prefix + Self.flowKeyHeader, flowControl.key), (prefix + Self.flowValueHeader, flowControl.value)]
    }

    /// The message that starts the run with `payload` as its log's first entry (§3.2).
    func trigger(payload: [UInt8], contentType: String?) -> OutgoingMessage {
        var headers = workflowHeaders
        headers.remove("Upstash-Workflow-Init")
        headers.append("Upstash-Workflow-Init", "true")
        // As the SDKs ask: a workflow URL that reaches no runner (a wrong --base-url) fails the
        // run at its first delivery instead of leaving it waiting. Every answer of this runner
        // carries Upstash-Workflow-Sdk-Version.
        headers.remove("Upstash-Feature-Set")
        headers.append("Upstash-Feature-Set", "InitialBody,WF_DetectTrigger")
        if let contentType {
            headers.remove("Content-Type")
            headers.append("Content-Type", contentType)
        }
        return OutgoingMessage(destination: workflowURL, headers: headers, body: payload)
    }

    /// The message appending `entry` to the log, delivered not before `notBefore` (unix seconds).
    func step(_ entry: JournalEntry, notBefore: Int64? = nil) -> OutgoingMessage {
        var headers = workflowHeaders
        if let notBefore { headers.append("Upstash-Not-Before", String(notBefore)) }
        return OutgoingMessage(destination: workflowURL, headers: headers, body: Self.stepBytes(entry))
    }

    /// The request QStash sends to a third party for a `call` step (try number `attempt`),
    /// followed by a callback to the workflow URL with the answer (§6.2). QStash does not retry
    /// it: the runner judges each answer with the step's own retry policy.
    func call(_ request: OutgoingRequest, _ original: CallRequest, stepId: Int, stepName: String, attempt: Int, notBefore: Int64?)
        -> OutgoingMessage
    {
        var headers = HeaderFields([("Upstash-Method", request.method)])
        for header in request.headers where header.name.lowercased() != "content-type" {
            headers.append("Upstash-Forward-" + header.name, header.value)
        }
        let contentType = request.header("content-type") ?? "application/json"
        headers.append("Content-Type", contentType)
        let seconds = max(1, QStashTime.seconds(request.timeout))
        let callback = "Upstash-Callback-Forward-"
        for (name, value) in [
            ("Upstash-Retries", "0"), ("Upstash-Timeout", "\(seconds)s"), ("Upstash-Feature-Set", "WF_NoDelete,InitialBody"),
            ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", runId), ("Upstash-Workflow-Url", workflowURL),
            ("Upstash-Workflow-CallType", "toCallback"), ("Upstash-Callback", workflowURL),
            ("Upstash-Callback-Workflow-RunId", runId), ("Upstash-Callback-Workflow-CallType", "fromCallback"),
            ("Upstash-Callback-Workflow-Init", "false"), ("Upstash-Callback-Workflow-Url", workflowURL),
            ("Upstash-Callback-Feature-Set", "InitialBody"), ("Upstash-Callback-Retries", String(retries)),
            (callback + "Upstash-Workflow-Callback", "true"), (callback + "Upstash-Workflow-StepId", String(stepId)),
            (callback + "Upstash-Workflow-StepName", stepName), (callback + "Upstash-Workflow-StepType", StepType.call.rawValue),
            (callback + "Upstash-Workflow-Concurrent", "1"), (callback + Self.versionHeader, version),
            (callback + Self.callAttemptHeader, String(attempt)), (callback + Self.callTimeoutHeader, "\(seconds)"),
            (callback + Self.callContentTypeHeader, contentType),
        ] {
            headers.append(name, value)
        }
        for (name, value) in forwardedFlowControl(prefix: callback) { headers.append(name, value) }
        if let expected = original.expectedStatuses {
            headers.append(callback + Self.callExpectHeader, expected.map(String.init).joined(separator: ","))
        }
        if let format = original.responseFormat { headers.append(callback + Self.callResponseHeader, format) }
        if let notBefore { headers.append("Upstash-Not-Before", String(notBefore)) }
        return OutgoingMessage(destination: request.url, headers: headers, body: request.body)
    }

    /// The body and headers of `POST /v2/wait/{event}` for the `Wait` step `stepId` (§6.3): the
    /// run is delivered to the workflow URL when the event comes or `timeout` passes.
    func wait(stepId: Int, stepName: String, timeout: WireDuration) -> (body: [UInt8], headers: HeaderFields) {
        var headers = workflowHeaders
        headers.append("Upstash-Workflow-CallType", "step")
        let step: Value = [
            "stepId": .int(Int64(stepId)), "stepName": .string(stepName), "stepType": .string(StepType.wait.rawValue), "concurrent": 1,
        ]
        let body: Value = [
            "url": .string(workflowURL), "timeout": .string(timeout.description), "timeoutUrl": .string(workflowURL),
            "timeoutHeaders": .map(ValueMap(headers.fields.map { ($0.name, Value.list([.string($0.value)])) })), "step": step,
        ]
        return (Array(body.jsonText().utf8), headers)
    }
}


extension RunMessages {
    /// The id of the run the step `stepName` of run `parent` invokes: derived from both, so a
    /// delivery tried again starts the same child, which the orchestrator deduplicates.
    static func invokedRunId(parent: String, stepName: String) -> String {
        derivedRunId("\(parent)/\(stepName)")
    }

    /// `wfr_` and 32 hex digits of the SHA-256 of `seed`: the same run id wherever it is derived.
    static func derivedRunId(_ seed: String) -> String {
        "wfr_" + hexDigest(seed, bytes: 16)
    }

    /// The first `bytes` bytes of the SHA-256 of `seed`, in hex.
    static func hexDigest(_ seed: String, bytes: Int) -> String {
        Hex.encode(SHA256.hash(data: Array(seed.utf8)).prefix(bytes))
    }

    /// The message that starts the run `child` invokes with `input` for the step `stepId` (§6.5):
    /// a trigger of the child's endpoint whose body says where the result goes.
    func invoke(_ child: RunMessages, input: Value, stepId: Int, stepName: String) throws(ProtocolError) -> OutgoingMessage {
        let step = try StepJSON(entry: JournalEntry(stepId: stepId, stepName: stepName, stepType: .invoke))
        let request = InvokeRequest(
            body: input.jsonText(), headers: workflowHeaders.fields, workflowRunId: runId, workflowRunCreatedAt: nil, workflowUrl: workflowURL,
            step: step)
        var message = child.trigger(payload: request.jsonBytes, contentType: "application/json")
        message.headers.append("Upstash-Workflow-Invoke", "true")
        return message
    }

    /// The `stepId` of a step inside a parallel group: 2^52 plus 52 bits of the FNV-1a hash of
    /// its path. Stable for the step (a duplicate is recognised as one), distinct from the small
    /// sequential ids, and below 2^53, so JavaScript reads it exactly.
    static func groupStepId(_ path: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in path.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(1 << 52 | hash & (1 << 52 - 1))
    }

    /// The step JSON of a journal entry, as the runner publishes it.
    static func stepBytes(_ entry: JournalEntry) -> [UInt8] {
        Array(entry.json.jsonText().utf8)
    }
}
