import StepwiseExpressions
import StepwiseProtocol

/// Turns a message an SDK published into the `Publication` the store applies (§3.4, §4.6 and
/// §6.2 of the protocol notes): a trigger starts a run, a step or a call appends to the run's
/// log and queues its delivery, anything else is a plain message. Pure: the clock is a parameter.
public struct PublicationPlanner: Sendable {
    /// When the message arrived.
    public var now: TimestampValue
    /// The run-level options of the run messages append to (`RunDefaults`), by run id.
    public var defaults: [String: RunDefaults]

    /// A planner for messages arriving at `now`, appending to runs with `defaults`.
    public init(now: TimestampValue, defaults: [String: RunDefaults] = [:]) {
        self.now = now
        self.defaults = defaults
    }

    /// The publication of `message`; an error names what is wrong with its headers.
    public func plan(_ message: PublishedMessage) throws(ProtocolError) -> Publication {
        if message.isToURLGroup {
            throw ProtocolError("'\(message.destination)' names a URL group: its messages are published to each of its endpoints, through /v2/publish or /v2/batch")
        }
        let workflow = message.options.workflow
        guard workflow.isWorkflowMessage else {
            var plain = queued(message, role: .plain, runId: nil)
            plain.urlGroup = message.urlGroup
            plain.endpointName = message.endpointName
            // Kept as its labels joined by commas, which the message APIs' label filters read.
            plain.label = message.options.label.map { CommaList.items($0).joined(separator: ",") }.flatMap { $0.isEmpty ? nil : $0 }
            return .enqueue(plain)
        }
        if workflow.isInit == true { return try startRun(message) }
        guard let runId = workflow.runId, !runId.isEmpty else {
            throw ProtocolError("header 'Upstash-Workflow-RunId' is missing; a workflow message that does not start a run must name it")
        }
        if workflow.callType == .toCallback {
            var call = queued(message, role: .call, runId: runId)
            call.method = message.options.method ?? "GET"
            call.retries = message.options.retries ?? 0
            // The call's request is the run's too: the trigger's redaction covers it.
            if let defaults = defaults[runId] { call = defaults.redacted(call) }
            return .append(runId: runId, entry: RawStep(messageId: call.id, body: message.body ?? [], callType: .toCallback), dedupeKey: nil, message: call)
        }
        var delivery = queued(message, role: .workflow, runId: runId)
        if let defaults = defaults[runId] {
            delivery = defaults.applied(to: delivery, options: message.options, failureCallback: message.failureCallback)
        }
        let body = message.body ?? []
        return .append(runId: runId, entry: RawStep(messageId: delivery.id, body: body, callType: workflow.callType ?? .step), dedupeKey: Self.dedupeKey(of: body), message: delivery)
    }

    /// The feature flag with which a trigger asks that its first delivery be checked for an answer
    /// of a workflow endpoint (§2.6).
    static let detectTriggerFeature = "WF_DetectTrigger"

    /// A run started by a trigger; an invoked run's payload is the `body` of its invoke request,
    /// and its end completes the invoker's step.
    private func startRun(_ message: PublishedMessage) throws(ProtocolError) -> Publication {
        let workflow = message.options.workflow
        let chosen = workflow.runId.flatMap { $0.isEmpty ? nil : $0 }
        // A client may not take an id the engine derives (a future schedule tick, an invoke's
        // child) or one no URL can name, whichever route starts the run.
        if let chosen, let problem = RunIdentifier.clientProblem(chosen) { throw ProtocolError("Upstash-Workflow-RunId: \(problem)") }
        let id = chosen ?? RunIdentifier.fresh()
        let url = workflow.url ?? message.destination
        var body = message.body ?? []
        var invoker: EndpointInvoker?
        if workflow.isInvoke {
            let request = try ProtocolError.locating("the invoke request") { () throws(ProtocolError) in try InvokeRequest(jsonBytes: body) }
            body = Array(request.body.utf8)
            invoker = EndpointInvoker(request)
        }
        var first = queued(message, role: .workflow, runId: id)
        first.logPosition = 0
        if workflow.has(feature: Self.detectTriggerFeature) {
            first.detectsWorkflowEndpoint = true
            if message.isRESTTrigger { first.isRESTTrigger = true }
        }
        let defaults = workflow.has(feature: RunDefaults.feature)
            ? RunDefaults(trigger: message, runId: id, url: url) : message.options.redaction.map(RunDefaults.init(redaction:))
        if let defaults { first = defaults.applied(to: first, options: message.options, failureCallback: message.failureCallback) }
        var run = RunRecord(
            id: id, workflow: url, definitionHash: "", input: PayloadValue.of(body), createdAt: now, updatedAt: now,
            parent: invoker.map { ($0.parentRunId, (try? StepJSON(bytes: Array($0.step.utf8)).stepName) ?? "") }, endpoint: url,
            defaults: defaults, invoker: invoker, label: message.options.label, flowControlKey: first.flowControlKey)
        run.callerIp = message.callerIp
        return .startRun(run, initialBody: body, first: first, bySDK: workflow.isTriggerBySDK)
    }

    /// The message as queued: its options, forwarded headers and due time.
    private func queued(_ message: PublishedMessage, role: QueuedMessage.Role, runId: String?) -> QueuedMessage {
        let options = message.options
        let failureCallback = QueuedTarget(message.failureCallback, runId: runId)
        let callback = QueuedTarget(message.callback, runId: runId)
        let callbackFailureCallback = QueuedTarget(message.callbackFailureCallback, runId: runId)
        var queued = QueuedMessage(
            role: role, runId: runId, destination: message.destination, method: options.method ?? "POST",
            headers: options.forwardedHeaders.map { ForwardedHeader($0.name, $0.value) }, contentType: message.contentType,
            body: role == .workflow ? nil : message.body, retries: options.retries ?? QueuedMessage.defaultRetries,
            retryDelay: options.retryDelay?.text, timeoutMilliseconds: options.timeout?.milliseconds, callback: callback,
            failureCallback: failureCallback, callbackFailureCallback: callbackFailureCallback, runIdHeader: runId,
            flowControl: message.queue.map(NamedQueue.flowControl) ?? options.flowControl.map(FlowControl.init), queue: message.queue,
            redaction: options.redaction, dueAt: dueAt(options))
        queued.callerIp = message.callerIp
        // The REST API writes the JS SDK's feature set for whatever SDK the endpoint runs.
        if role == .workflow, options.workflow.fetchesLogLazily, !message.isRESTTrigger { queued.fetchesLog = true }
        if role == .call, message.callback?.options.workflow.fetchesLogLazily == true { queued.callback?.fetchesLog = true }
        return queued
    }

    /// The message a retry of DLQ entry `letter` queues: a new id, a first attempt, due now,
    /// with the retry request's options over the message's own (method, retries, retry delay,
    /// timeout, delay, not-before, flow control); an error when they do not suit its queue.
    public func retry(_ letter: MessageDeadLetter, options: MessageOptions) throws(ProtocolError) -> QueuedMessage {
        try NewMessageRules.check(options, headerPrefix: "Upstash-", at: now)
        var message = letter.message
        if let queue = message.queue, options.flowControl != nil || options.delay != nil || options.notBefore != nil {
            throw ProtocolError("message '\(message.id)' was enqueued to queue '\(queue)', where it goes in its turn at the queue's parallelism: leave out Upstash-Delay, Upstash-Not-Before and Upstash-Flow-Control-*")
        }
        message.id = QueuedMessage.freshId()
        message.attempt = 0
        message.method = options.method ?? message.method
        message.retries = options.retries ?? message.retries
        message.retryDelay = options.retryDelay?.text ?? message.retryDelay
        message.timeoutMilliseconds = options.timeout?.milliseconds ?? message.timeoutMilliseconds
        message.flowControl = options.flowControl.map(FlowControl.init) ?? message.flowControl
        message.dueAt = dueAt(options)
        return message
    }

    /// `Upstash-Not-Before` wins over `Upstash-Delay`; neither means now. A time past the latest a
    /// timestamp names stays the latest, never now (`NewMessageRules` refuses it in new messages).
    private func dueAt(_ options: MessageOptions) -> TimestampValue {
        if let notBefore = options.notBefore {
            return max(TimestampValue(clampingNanosecondsSinceEpoch: Int128(notBefore) * 1_000_000_000), now)
        }
        guard let delay = options.delay else { return now }
        return now.movedForward(by: .milliseconds(delay.milliseconds))
    }

    /// A step's identity in its run: result steps by `stepId`, plan steps by `targetStep`. A body
    /// that is not step JSON has none and is never taken for a duplicate.
    static func dedupeKey(of body: [UInt8]) -> String? {
        guard let step = try? StepJSON(bytes: body) else { return nil }
        return step.isPlan ? "plan:\(step.targetStep ?? 0)" : "step:\(step.stepId)"
    }
}
