import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Decides what follows one delivery attempt of a queued message (§4.7, §6.2, §7 of the protocol
/// notes): delivered, retried after QStash's backoff or the message's `Upstash-Retry-Delay`
/// (`Retry-After` when the answer asks), or failed for good (at once on 489 with
/// `Upstash-NonRetryable-Error`), which fails the run and queues its failure callback, or keeps a
/// plain message in its DLQ. Every attempt of a call, or of a plain message with a callback, is
/// followed by its callback (QStash's callbacks). Pure: the store applies the result.
public struct QueuedAttemptResolver: Sendable {
    public var message: QueuedMessage
    /// The run the message belongs to, if any.
    public var run: RunRecord?
    /// The run's initial payload, the `sourceBody` of the failure callback of a run's delivery or
    /// callback.
    public var initialPayload: [UInt8]
    /// The body the attempt carried.
    public var body: [UInt8]
    public var startedAt: TimestampValue
    public var now: TimestampValue
    /// Multiplies the retry delays of the backoff and of `Upstash-Retry-Delay` (1 in production;
    /// smaller in tests and local development); `Retry-After` is followed as the endpoint asked.
    public var retryDelayScale: Double
    /// Redacts the credentials the message forwarded (`echoedCredentials`) from its answer.
    private let echoes: SecretRedactor

    /// A resolver for an attempt of `message` that started at `startedAt` and ended at `now`;
    /// `echoes` redacts `echoedCredentials(of: message)` (made here when not given).
    public init(
        message: QueuedMessage, run: RunRecord?, initialPayload: [UInt8], body: [UInt8], startedAt: TimestampValue, now: TimestampValue,
        retryDelayScale: Double, echoes: SecretRedactor? = nil
    ) {
        self.message = message
        self.run = run
        self.initialPayload = initialPayload
        self.body = body
        self.startedAt = startedAt
        self.now = now
        self.retryDelayScale = retryDelayScale
        self.echoes = echoes ?? SecretRedactor(secrets: Self.echoedCredentials(of: message))
    }

    /// The shortest forwarded credential looked for in answers: a shorter one would cut
    /// ordinary words out of them.
    static let shortestEchoedCredential = 8

    /// What an answer to `message` must not show: the values of the headers it forwards that are
    /// credentials (`ForwardedHeader.credentialNames`) or that its `redaction` names, and a
    /// scheme's token (`Bearer <token>`) on its own. A destination that echoes its
    /// `Authorization` would otherwise have it stored and shown in the log, the DLQ and the run's
    /// error, where the header itself is `[redacted]`.
    public static func echoedCredentials(of message: QueuedMessage) -> [String] {
        var values: [String] = []
        for header in message.headers
        where ForwardedHeader.credentialNames.contains(header.name.lowercased()) || message.redaction?.redacts(header: header.name) == true {
            let token = header.value.split(separator: " ", maxSplits: 1).last.map(String.init) ?? header.value
            values += [header.value, token].filter { $0.count >= shortestEchoedCredential }
        }
        return values
    }

    /// Why a run fails whose first delivery was answered by no workflow endpoint (`WF_DetectTrigger`),
    /// in QStash's words (workflow-js `examples/ci` `trigger-non-workflow`).
    public static let nonWorkflowDestination =
        "detected a non-workflow destination for trigger/invoke. make sure you are sending the request to the correct endpoint"
    /// The same for a run started through the REST API (workflow-js `examples/ci`
    /// `qstash-trigger-fetch`): the endpoint may run an SDK older than 1.0, which cannot take it.
    public static let restTriggerToNonWorkflow = "trigger rest api is only usable with sdk versions after v1.0.0 major version"

    /// What follows `result`.
    public func resolve(_ result: AttemptResult) -> AttemptFollowUp {
        var verdict = DeliveryVerdict.retry
        var isWorkflowEndpoint = true
        if case .answered(let status, let headers, let body) = result {
            let answer = EndpointAnswer(status: status, headers: headers, body: body)
            verdict = answer.verdict
            isWorkflowEndpoint = answer.isWorkflowEndpoint
        }
        var followUp = AttemptFollowUp(decidedAt: now)
        if message.role == .call || message.isPlain, let callback = callbackMessage(for: result) { followUp.enqueue.append(callback) }
        switch verdict {
        case .delivered where message.detectsWorkflowEndpoint == true && !isWorkflowEndpoint:
            // The trigger went to something that took it but does not run workflows: retrying
            // cannot help, and the run would otherwise wait for steps that never come.
            followUp.record = record("failed", result)
            let why = message.isRESTTrigger == true ? Self.restTriggerToNonWorkflow : Self.nonWorkflowDestination
            let error = event(.error, result, why: why)
            followUp.events = [error, MessageEvent(.failed, of: message, at: now.millisecondsSinceEpoch, error: error.error)]
            let reason = StepError(message: why, type: "NonWorkflowDestination")
            // The failure callback's `body` is read by the SDKs as the endpoint's `{error, message}`
            // answer: it carries why, while the log keeps what the destination answered.
            var reported = result
            if case .answered(let status, _, _) = result {
                reported = .answered(status: status, headers: HeaderFields([("Content-Type", "application/json")]), body: EndpointErrorBody(reason).jsonBytes)
            }
            fail(&followUp, reported, error: reason)
        case .delivered:
            followUp.record = record("delivered", result)
            followUp.events = [event(.delivered, result)]
            if reportsRunFailure { followUp.failureCallbackEnd = (true, answer(result)) }
        case .retry where message.attempt < message.retries:
            retry(&followUp, at: now.movedForward(by: retryDelay().scaled(by: retryDelayScale)), result)
        case .retryAfter(let wait) where message.attempt < message.retries:
            // The endpoint's own instruction is followed as given, never scaled.
            retry(&followUp, at: now.movedForward(by: .milliseconds(wait.milliseconds)), result)
        case .retry, .retryAfter, .failWithoutRetry:
            followUp.record = record("failed", result)
            let error = event(.error, result)
            // The answer is the error's; the end repeats only why.
            followUp.events = [error, MessageEvent(.failed, of: message, at: now.millisecondsSinceEpoch, error: error.error)]
            fail(&followUp, result)
        }
        // The destination's own answer, also when the failure callback reports another.
        if followUp.failRun != nil { followUp.runFailureAnswer = answer(result) }
        return followUp
    }

    /// Whether the message is the failure callback of a failed run, whose DLQ entry tells how it went.
    private var reportsRunFailure: Bool {
        message.role == .failureCallback && message.runId != nil
    }

    private func retry(_ followUp: inout AttemptFollowUp, at dueAt: TimestampValue, _ result: AttemptResult) {
        followUp.retry = (message.attempt + 1, dueAt)
        followUp.record = record("retry", result)
        followUp.events = [event(.error, result), MessageEvent(.retry, of: message, at: now.millisecondsSinceEpoch, nextDeliveryAt: dueAt.millisecondsSinceEpoch)]
    }

    /// The log's event `state` of this attempt, with its answer and, unless delivered, why it
    /// failed: `given`, or what the result tells.
    private func event(_ state: MessageEvent.State, _ result: AttemptResult, why given: String? = nil) -> MessageEvent {
        MessageEvent(state, of: message, at: now.millisecondsSinceEpoch, error: given ?? why(state, result), answer: answer(result))
    }

    /// Why an attempt that ended in `state` failed, as its result tells; `nil` when delivered.
    private func why(_ state: MessageEvent.State, _ result: AttemptResult) -> String? {
        switch result {
        case .answered(let status, _, _): state == .delivered ? nil : "the destination answered \(status)"
        case .noAnswer(let reason): reason
        }
    }

    /// A message that failed for good: a workflow delivery, or the callback of a run's call,
    /// fails its run (the run waits for it: without it, the run would wait for ever); a plain
    /// message is kept in the DLQ; any of these, or a plain message's callback, with a failure URL
    /// has it called.
    private func fail(_ followUp: inout AttemptFollowUp, _ result: AttemptResult, error given: StepError? = nil) {
        // The callback of a call attempt that is retried: the SDK ignores it, and so does its end.
        let ignored = message.role == .callback && message.runId != nil
            && (try? CallbackBody(jsonBytes: message.body ?? []))?.sdkWaitsForRetry == true
        // A delivery to the workflow endpoint, or the callback of a call's last attempt to it,
        // which the run waits for.
        let failsRun = message.runId != nil && (message.role == .workflow || message.role == .callback) && !ignored
        if failsRun, let runId = message.runId, run?.status == .running {
            followUp.failRun = (runId, given ?? error(result))
        }
        if message.isPlain { followUp.deadLetter = answer(result) }
        if reportsRunFailure { followUp.failureCallbackEnd = (false, answer(result)) }
        // A run that ended meanwhile (canceled, failed by another branch) has nothing left to fail.
        guard [.workflow, .plain, .callback].contains(message.role), !ignored, !failsRun || run?.status == .running,
            let target = (failsRun ? run?.defaults?.overrides?.failureCallback : nil) ?? message.failureCallback
                ?? (failsRun ? run?.defaults?.failureCallback : nil)
        else { return }
        followUp.enqueue.append((failureCallbackMessage(target, result, ofRun: failsRun), nil))
    }

    private func retryDelay() -> WireDuration {
        if let text = message.retryDelay, let expression = try? RetryDelayExpression(text) {
            return expression.delay(retried: message.attempt)
        }
        return DefaultBackoff.delay(beforeRetry: message.attempt + 1)
    }

    /// The run's error: the endpoint's `{error, message}` answer when it sent one (the SDKs do).
    private func error(_ result: AttemptResult) -> StepError {
        switch result {
        case .noAnswer(let reason):
            return StepError(message: "the workflow endpoint could not be reached: \(reason)", type: "ConnectionError")
        case .answered(let status, _, let body):
            let answer = EndpointErrorBody(bytes: body)
            // A 489 is the endpoint's own verdict on the run, stated as it gave it; anything else
            // failed the delivery, which is what the run shows.
            if status == 489, var answer {
                answer.error.message = echoes.redact(answer.error.message)
                return answer.error
            }
            let detail = answer?.error.message ?? String(String(decoding: body.prefix(500), as: UTF8.self))
            let message = echoes.redact("the workflow endpoint answered \(status): \(detail)")
            return StepError(message: message, type: answer?.error.type ?? "EndpointError", status: status)
        }
    }

    private func parts(_ result: AttemptResult) -> (status: Int64, header: [(name: String, values: [String])], body: [UInt8]) {
        switch result {
        case .answered(let status, let headers, let body): (Int64(status), headers.canonicallyGrouped, body)
        // No answer is reported as status 0 with the reason as the body, like a browser's network error.
        case .noAnswer(let reason): (0, [], Array(reason.utf8))
        }
    }

    private func answer(_ result: AttemptResult) -> AttemptAnswer {
        switch result {
        // Kept in the DLQ and the log, never delivered: credentials are redacted before they are stored.
        case .answered(let status, let headers, let body):
            AttemptAnswer(
                status: status, headers: headers.fields.map { ForwardedHeader($0.name, echoes.redact($0.value)).shown }, body: echoes.redact(body: body))
        case .noAnswer(let reason): AttemptAnswer(status: 0, headers: [], body: Array(reason.utf8))
        }
    }

    /// The callback of an attempt, and for a call the `fromCallback` log entry it delivers; `nil`
    /// when the message has no callback or its run ended.
    private func callbackMessage(for result: AttemptResult) -> (message: QueuedMessage, logEntry: RawStep?)? {
        guard let target = message.callback, message.isPlain || run?.status == .running else { return nil }
        let (status, header, responseBody) = parts(result)
        let callback = CallbackBody(
            status: status, header: header, body: responseBody, retried: message.attempt == 0 ? nil : message.attempt,
            maxRetries: message.retries, sourceMessageId: message.id, topicName: message.urlGroup, endpointName: message.endpointName,
            url: message.destination, method: message.method, sourceHeader: sourceHeader, sourceBody: body,
            createdAt: now.millisecondsSinceEpoch, scheduleId: message.scheduleId, callerIP: message.callerIp)
        var queued = followingMessage(.callback, to: target, body: callback.jsonBytes)
        guard message.role == .call else { return (queued, nil) }
        if let defaults = run?.defaults {
            // Only to the run's own endpoint: a callback elsewhere gets no header the trigger forwarded.
            if target.url == run?.endpoint { queued.headers = defaults.forwardedToCallback(with: queued.headers) }
            if let overrides = defaults.overrides { queued = overrides.applied(to: queued) }
        }
        return (queued, RawStep(messageId: queued.id, body: queued.body ?? [], callType: .fromCallback))
    }

    /// The failure callback of this message; `ofRun` when its failure fails its run, which the
    /// body then names (its DLQ entry, its initial payload).
    private func failureCallbackMessage(_ target: QueuedTarget, _ result: AttemptResult, ofRun: Bool) -> QueuedMessage {
        let (status, header, responseBody) = parts(result)
        let failure = FailureCallbackBody(
            status: status, header: header, body: responseBody, retried: message.attempt, maxRetries: message.retries,
            dlqId: deadLetterId(failingRun: ofRun), sourceMessageId: message.id,
            url: message.destination, method: message.method, sourceHeader: sourceHeader,
            sourceBody: ofRun ? initialPayload : body, workflowRunId: message.runId ?? "",
            workflowCreatedAt: (run?.createdAt ?? now).millisecondsSinceEpoch,
            createdAt: now.millisecondsSinceEpoch, callerIP: message.callerIp ?? run?.callerIp,
            topicName: message.urlGroup, endpointName: message.endpointName, scheduleId: message.scheduleId)
        return followingMessage(.failureCallback, to: target, body: failure.jsonBytes)
    }

    /// The DLQ entry the failure lands in, which the failure callback names so that its receiver
    /// can delete it: the run's, or a plain message's own (a callback's failure keeps none).
    private func deadLetterId(failingRun: Bool) -> String? {
        if failingRun { return message.runId.map(DeadLetter.id(ofRun:)) }
        return message.isPlain ? MessageDeadLetter.id(of: message.id) : nil
    }

    /// The headers the message was delivered with, as callbacks report them: what it forwards,
    /// without the hop-by-hop and stale QStash headers a delivery never carries.
    private var sourceHeader: [(name: String, values: [String])] {
        HeaderFields(message.headers.filter { !DeliveryHeaders.droppedNames.contains($0.name.lowercased()) }.map { ($0.name, $0.value) })
            .canonicallyGrouped
    }

    private func followingMessage(_ role: QueuedMessage.Role, to target: QueuedTarget, body: [UInt8]) -> QueuedMessage {
        var following = QueuedMessage(
            role: role, runId: message.runId, destination: target.url, method: target.method, headers: target.headers,
            contentType: "application/json", body: body, retries: target.retries, retryDelay: target.retryDelay,
            timeoutMilliseconds: target.timeoutMilliseconds, failureCallback: role == .callback ? message.callbackFailureCallback : nil,
            runIdHeader: target.runId ?? message.runId, dueAt: now)
        // Only a call's callback is found in the log the SDK fetches.
        if role == .callback, message.role == .call { following.fetchesLog = target.fetchesLog }
        following.queueSlot = message.heldQueueSlot
        return following
    }

    private func record(_ outcome: String, _ result: AttemptResult) -> AttemptRecord? {
        guard let runId = message.runId else { return nil }
        let detail: String
        let destination = OutgoingRequest.withoutUserInfo(message.destination)
        switch result {
        case .answered(let status, _, _): detail = "\(message.role.rawValue) \(message.method) \(destination) answered \(status)"
        case .noAnswer(let reason): detail = "\(message.role.rawValue) \(message.method) \(destination): \(reason)"
        }
        return AttemptRecord(
            runId: runId, position: message.logPosition ?? 0, attempt: message.attempt, startedAt: startedAt, finishedAt: now,
            outcome: outcome, detail: detail)
    }
}
